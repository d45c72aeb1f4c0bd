/** Summary statistics of a batch of latencies: the figures every section reports. */
import type { Samples } from "./timing.js";

/** What a measured contender is reported as. */
export interface Stats {
  /** Operations measured. */
  n: number;
  /** Median latency, milliseconds. */
  p50: number;
  /** 99th percentile latency, milliseconds. */
  p99: number;
  /** Operations per second over the wall time of the measured batches. */
  opsPerSec: number;
  /** This process's CPU time per operation, milliseconds (see `Samples.cpuMs`). */
  cpuMsPerOp: number;
}

/** The nearest-rank percentile `q` (0–1) of ascending `sorted` values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** p50, p99 and throughput of a batch. */
export function summarize(samples: Samples): Stats {
  const sorted = [...samples.latenciesMs].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    opsPerSec: samples.wallMs > 0 ? (sorted.length * 1000) / samples.wallMs : Number.NaN,
    cpuMsPerOp: sorted.length > 0 ? samples.cpuMs / sorted.length : Number.NaN,
  };
}

/**
 * Interleaved measurement. The contenders of one comparison run the same operation
 * indices at the same concurrency in alternating rounds (A B, B A, A B, …), so slow
 * drift — a growing table, autovacuum, a checkpoint, another process on the machine —
 * weighs on all of them alike instead of on whichever ran last.
 */
import { progress } from "./log.js";
import { type Stats, summarize } from "./stats.js";
import { mergeSamples, type Op, runOps, type Samples } from "./timing.js";

/** A contender: the measured operation and, for writes, a separate warm-up operation. */
export interface Contender {
  op: Op;
  /** Runs on warm-up indices 0…warmupCount-1; default: `op` itself (fine for reads). */
  warmup?: Op;
}

export interface InterleaveOptions<K extends string> {
  /** Shown in progress lines. */
  label: string;
  /** Operations measured per contender (indices 0…count-1). */
  count: number;
  concurrency: number;
  /** Operations per contender before measuring (JIT, plans, pool connections). */
  warmupCount: number;
  /** Rounds the count is split into (default 10). */
  rounds?: number;
  contenders: Record<K, Contender>;
}

/** Measures every contender on the same work; see the module comment. */
export async function interleave<K extends string>(options: InterleaveOptions<K>): Promise<Record<K, Stats>> {
  const { count, concurrency, warmupCount, contenders } = options;
  const names = Object.keys(contenders) as K[];
  const rounds = Math.max(1, Math.min(options.rounds ?? 10, count));
  for (const name of names) {
    await runOps(0, warmupCount, concurrency, contenders[name].warmup ?? contenders[name].op);
  }
  const batches = new Map<K, Samples[]>(names.map((name) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    const from = Math.floor((r * count) / rounds);
    const to = Math.floor(((r + 1) * count) / rounds);
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const name of order) batches.get(name)?.push(await runOps(from, to, concurrency, contenders[name].op));
  }
  return Object.fromEntries(names.map((name) => [name, summarize(mergeSamples(batches.get(name) ?? []))])) as Record<K, Stats>;
}

/** Convo's and raw's figures from one interleaved run. */
export interface Comparison {
  convo: Stats;
  raw: Stats;
  /** Convo's throughput ÷ raw's (1 = as fast as raw; the target is ≥ 0.9). */
  ratio: number;
}

/** Measures Convo against its raw reference (see `interleave`). */
export async function compare(
  options: Omit<InterleaveOptions<"convo" | "raw">, "contenders"> & { convo: Contender; raw: Contender },
): Promise<Comparison> {
  const { convo, raw, ...rest } = options;
  const stats = await interleave({ ...rest, contenders: { convo, raw } });
  const comparison = { ...stats, ratio: stats.convo.opsPerSec / stats.raw.opsPerSec };
  progress(
    `${options.label}: convo p50 ${comparison.convo.p50.toFixed(3)} ms, raw p50 ${comparison.raw.p50.toFixed(3)} ms, ` +
      `convo÷raw ${comparison.ratio.toFixed(2)}`,
  );
  return comparison;
}

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
  /** Wraps each measured batch (e.g. to read another process's CPU time around it). */
  onBatch?: (contender: K, run: () => Promise<Samples>) => Promise<Samples>;
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
    for (const name of order) {
      const run = () => runOps(from, to, concurrency, contenders[name].op);
      batches.get(name)?.push(await (options.onBatch ? options.onBatch(name, run) : run()));
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(mergeSamples(batches.get(name) ?? []))])) as Record<K, Stats>;
}

/** Convo's figures beside its references', all from one interleaved run. */
export interface Comparison {
  convo: Stats;
  /** Raw SQL on Convo's own schema (what the layers cost). */
  raw: Stats;
  /** The minimal hand-written schema and SQL of issue 10 (what schema and layers cost together). */
  ref?: Stats;
  /** Mastra's PostgreSQL store. */
  mastra?: Stats;
  /** Convo's throughput ÷ raw's on the same schema (1 = as fast as raw). */
  ratio: number;
}

/** The contenders of a comparison: Convo and raw always, the minimal reference and Mastra where they apply. */
export interface Contenders {
  convo: Contender;
  raw: Contender;
  ref?: Contender;
  mastra?: Contender;
}

/** Measures Convo against its references (see `interleave`). */
export async function compare(options: Omit<InterleaveOptions<string>, "contenders"> & Contenders): Promise<Comparison> {
  const { convo, raw, ref, mastra, ...rest } = options;
  const contenders: Record<string, Contender> = { convo, raw };
  if (ref) contenders.ref = ref;
  if (mastra) contenders.mastra = mastra;
  const stats = await interleave({ ...rest, contenders });
  const comparison: Comparison = {
    convo: stats.convo,
    raw: stats.raw,
    ref: stats.ref,
    mastra: stats.mastra,
    ratio: stats.convo.opsPerSec / stats.raw.opsPerSec,
  };
  const vs = (name: string, other?: Stats) =>
    other
      ? `, ${name} p50 ${other.p50.toFixed(3)} ms (convo÷${name} ${(stats.convo.opsPerSec / other.opsPerSec).toFixed(2)})`
      : "";
  progress(
    `${options.label}: convo p50 ${comparison.convo.p50.toFixed(3)} ms, cpu ${comparison.convo.cpuMsPerOp.toFixed(3)} ms` +
      `${vs("ref", comparison.ref)}${vs("raw", comparison.raw)}${vs("mastra", comparison.mastra)}`,
  );
  return comparison;
}

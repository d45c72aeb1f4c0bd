/**
 * Timing: run an operation a fixed number of times at a fixed concurrency and record
 * each call's latency with `process.hrtime.bigint()`. There are no time limits here:
 * a benchmark measures, it never fails because something was slow.
 */

/** One operation of a benchmark: `index` is its position in the run, `worker` who runs it. */
export type Op = (index: number, worker: number) => Promise<unknown>;

/** Latencies of one batch of operations (milliseconds) and the batch's wall time. */
export interface Samples {
  latenciesMs: number[];
  wallMs: number;
  /**
   * This process's CPU time (user + system, `process.cpuUsage`) over the batch, in
   * milliseconds. With one contender running at a time it is that contender's cost in
   * this process: the library's JavaScript, the driver's, and on PGlite the database itself.
   */
  cpuMs: number;
}

const elapsedMs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * Runs `op` for every index in `[from, to)` with `concurrency` workers pulling the next
 * index from one shared counter, so index order is kept (index i starts before i+1)
 * and a slow call never idles the other workers.
 */
export async function runOps(from: number, to: number, concurrency: number, op: Op): Promise<Samples> {
  const latenciesMs: number[] = [];
  let next = from;
  const worker = async (w: number) => {
    while (next < to) {
      const index = next++;
      const start = process.hrtime.bigint();
      await op(index, w);
      latenciesMs.push(elapsedMs(start));
    }
  };
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, (_, w) => worker(w)));
  const used = process.cpuUsage(cpu);
  return { latenciesMs, wallMs: elapsedMs(start), cpuMs: (used.user + used.system) / 1000 };
}

/** Joins the samples of several batches of one contender (rounds of a paired run). */
export function mergeSamples(batches: Samples[]): Samples {
  return {
    latenciesMs: batches.flatMap((b) => b.latenciesMs),
    wallMs: batches.reduce((sum, b) => sum + b.wallMs, 0),
    cpuMs: batches.reduce((sum, b) => sum + b.cpuMs, 0),
  };
}

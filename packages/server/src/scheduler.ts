/**
 * Runs the lifecycle sweeps on an interval. With several nodes on one PostgreSQL only
 * the node holding the advisory lock sweeps; the others skip that tick. A failed
 * sweep is logged and counted, and the next tick tries again.
 */
import type { Convo, SweepResult } from "@convo/core";
import type { FastifyBaseLogger } from "fastify";
import type { Metrics } from "./plugins/metrics.js";

/**
 * Runs `convo.sweeps.runAll()` every `intervalMs` (under an advisory lock, so one node
 * sweeps at a time). `startServer` starts one; build your own when hosting the app.
 *
 * @example
 * const scheduler = new SweepScheduler(convo, { intervalMs: 60_000, log: app.log, metrics });
 * scheduler.start();
 * // on shutdown:
 * await scheduler.stop();
 */
export class SweepScheduler {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly convo: Convo,
    private readonly options: {
      intervalMs: number;
      log: FastifyBaseLogger;
      metrics?: Metrics;
      /** Runs first in each sweep, under the same lock (the Telegram bot's dialog expiry). */
      beforeSweep?: () => Promise<unknown>;
    },
  ) {}

  /** Runs the sweeps once if this node gets the lock; answers undefined when another node has it. */
  async runOnce(): Promise<SweepResult | undefined> {
    const { engine } = this.convo.store;
    const outcome = await engine.withAdvisoryLock(`convo:sweeps:${engine.schema}`, async () => {
      await this.options.beforeSweep?.();
      return this.convo.sweeps.runAll();
    });
    if (!outcome) {
      this.options.metrics?.sweepRuns.inc({ outcome: "skipped" });
      return undefined;
    }
    this.options.metrics?.sweepRuns.inc({ outcome: "ok" });
    this.options.metrics?.recordSweep(outcome.value);
    const changed = Object.values(outcome.value).some((n) => n > 0);
    if (changed) this.options.log.info({ sweep: outcome.value }, "lifecycle sweep");
    return outcome.value;
  }

  /** Starts the interval (unref'd, so it keeps no process alive); a no-op when already started or `intervalMs` is 0. */
  start(): void {
    if (this.options.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running) return; // a slow sweep is never run twice at once
      this.#running = this.runOnce()
        .catch((error: unknown) => {
          this.options.metrics?.sweepRuns.inc({ outcome: "error" });
          this.options.log.error({ err: error }, "lifecycle sweep failed");
        })
        .finally(() => {
          this.#running = undefined;
        });
    }, this.options.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

/**
 * Runs webhook delivery passes on an interval. With several nodes on one PostgreSQL
 * only the node holding the webhooks advisory lock delivers; the others skip the tick.
 * A failed pass is logged and the next tick tries again: nothing is lost, the
 * deliveries wait in the table.
 */
import type { Convo, WebhookPassResult } from "@convo/core";
import type { FastifyBaseLogger } from "fastify";

export class WebhookScheduler {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly convo: Convo,
    private readonly options: { intervalMs: number; log: FastifyBaseLogger },
  ) {}

  /** One pass if this node gets the lock; undefined when another node is delivering. */
  async runOnce(): Promise<WebhookPassResult | undefined> {
    const result = await this.convo.webhooks.runExclusive();
    if (result && (result.delivered || result.retrying || result.failed))
      this.options.log.info({ webhooks: result }, "webhook pass");
    return result;
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running) return; // a slow pass (a slow receiver) is never run twice at once
      this.#running = this.runOnce()
        .catch((error: unknown) => this.options.log.error({ err: error }, "webhook pass failed"))
        .finally(() => {
          this.#running = undefined;
        });
    }, this.options.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

import type { BackgroundContext, BackgroundErrorHandler } from "./types.js";

/**
 * Fans background failures out to the handler given at open and to any handler a
 * host adds later (the server attaches its log and metrics to a Convo it did not
 * open). A handler that throws is ignored: reporting must never fail the work.
 *
 * @example
 * const stop = convo.store.background.subscribe((error, { source }) => metrics.inc({ source }));
 */
export class BackgroundReporter {
  readonly #handlers = new Set<BackgroundErrorHandler>();

  constructor(initial?: BackgroundErrorHandler) {
    if (initial) this.#handlers.add(initial);
  }

  /** Adds a handler; answers the function that removes it. */
  subscribe(handler: BackgroundErrorHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Reports one failure to every handler. */
  report = (error: unknown, context: BackgroundContext): void => {
    for (const handler of this.#handlers) {
      try {
        handler(error, context);
      } catch {
        // A broken handler must not turn one failure into another.
      }
    }
  };
}

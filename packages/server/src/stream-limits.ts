/**
 * Caps on the connections a server holds open: event streams (SSE) and long-polls,
 * per user and per node. Each one holds a socket, a follower and a periodic re-read,
 * so one token must not be able to open hundreds. Beyond a cap the request answers
 * 429 with `Retry-After` before any work is done.
 */
import { RateLimitError } from "@convo/core";

export interface StreamLimitOptions {
  /** Open streams and long-polls per user (default 16). */
  perUser: number;
  /** Open streams and long-polls on this node (default 2,000). */
  perNode: number;
  /** What `Retry-After` says, in seconds (default 5). */
  retryAfterSeconds?: number;
}

export class StreamLimiter {
  readonly #byUser = new Map<string, number>();
  #total = 0;

  constructor(private readonly options: StreamLimitOptions) {}

  /** Open streams and long-polls on this node. */
  get open(): number {
    return this.#total;
  }

  /**
   * Takes one slot for `userId`; answers the function that gives it back (call it
   * exactly once, when the stream or long-poll ends). Throws RateLimitError (429)
   * when the user or the node is at its cap.
   *
   * @example
   * const release = limiter.acquire(userId);
   * try { await streamEvents() } finally { release() }
   */
  acquire(userId: string): () => void {
    const retryAfter = this.options.retryAfterSeconds ?? 5;
    const mine = this.#byUser.get(userId) ?? 0;
    if (mine >= this.options.perUser) {
      throw new RateLimitError(`This user has ${mine} streams or long-polls open (the limit); close one or retry later`, {
        limit: "streams-per-user",
        max: this.options.perUser,
        retryAfter,
      });
    }
    if (this.#total >= this.options.perNode) {
      throw new RateLimitError("This node holds as many streams and long-polls as it may; retry later or elsewhere", {
        limit: "streams-per-node",
        max: this.options.perNode,
        retryAfter,
      });
    }
    this.#byUser.set(userId, mine + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#byUser.get(userId) ?? 1) - 1;
      if (left > 0) this.#byUser.set(userId, left);
      else this.#byUser.delete(userId);
    };
  }
}

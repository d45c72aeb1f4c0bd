/**
 * Counts failed authentications per client address in fixed one-minute windows, so
 * guessing tokens or keys costs a 429 after `max` failures instead of an unlimited
 * stream of cheap 401s. Only failures count: a client with a valid credential is
 * never slowed down by this.
 *
 * @example
 * const failures = new AuthFailureLimiter(30);
 * failures.check(request.ip); // 429 once the address has failed 30 times this minute
 * try { await authenticate(request) } catch (error) { failures.fail(request.ip); throw error }
 */
import { RateLimitError } from "@convo/core";

export class AuthFailureLimiter {
  #window = new Map<string, number>();
  #windowStart = Date.now();

  constructor(
    private readonly max: number,
    private readonly windowMs = 60_000,
  ) {}

  #roll(now: number): void {
    if (now - this.#windowStart < this.windowMs) return;
    // Dropping the whole map each window keeps memory bounded by one window's addresses.
    this.#window = new Map();
    this.#windowStart = now;
  }

  /** Throws a 429 when `address` has used up its failures in this window. */
  check(address: string): void {
    const now = Date.now();
    this.#roll(now);
    if ((this.#window.get(address) ?? 0) >= this.max) {
      const retryAfter = Math.max(1, Math.ceil((this.#windowStart + this.windowMs - now) / 1000));
      throw new RateLimitError(`Too many failed authentications from this address; retry in ${retryAfter} s`, {
        limit: "auth-failures",
        max: this.max,
        retryAfter,
      });
    }
  }

  /** Records one failure of `address`. */
  fail(address: string): void {
    this.#roll(Date.now());
    this.#window.set(address, (this.#window.get(address) ?? 0) + 1);
  }
}

/** Retry timing shared by requests and streams. */

export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 = none). */
  retries?: number;
  /** First delay in ms (default 250), doubled each time, with jitter. */
  minDelayMs?: number;
  /** Largest delay in ms (default 5,000). */
  maxDelayMs?: number;
}

/** The delay before retry number `attempt` (1, 2, 3…): exponential with full jitter. */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const min = options.minDelayMs ?? 250;
  const max = options.maxDelayMs ?? 5_000;
  const ceiling = Math.min(max, min * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

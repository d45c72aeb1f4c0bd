/** The errors the client throws: one class, with the API's stable `code`. */

/**
 * An answer of the API that was not a success, or a request that never got one.
 * `code` is the API's error code (`NOT_FOUND`, `RUN_IN_PROGRESS`, `VALIDATION_FAILED`…),
 * or `NETWORK_ERROR` / `TIMEOUT` / `BAD_RESPONSE` when no error body came back;
 * `status` is the HTTP status (0 when there was no answer).
 *
 * @example
 * try {
 *   await convo.runs.start(conversationId, { content: "Привет" });
 * } catch (error) {
 *   if (error instanceof ConvoApiError && error.code === "RUN_IN_PROGRESS") {
 *     const runId = (error.details as { runId: string }).runId; // follow the running one instead
 *   }
 * }
 */
export class ConvoApiError extends Error {
  override readonly name = "ConvoApiError";

  constructor(
    /** The API's error code, e.g. `NOT_FOUND`. */
    readonly code: string,
    /** The HTTP status, 0 when the request got no answer. */
    readonly status: number,
    message: string,
    /** The error's JSON details as the API sent them. */
    readonly details?: unknown,
    options: { cause?: unknown; requestId?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.requestId = options.requestId;
  }

  /** The server's `x-request-id` of the failed request, to quote in a bug report. */
  readonly requestId: string | undefined;
}

/**
 * True for a `ConvoApiError` (with `code` when given).
 *
 * @example
 * const user = await convo.users.get(id).catch((error) => {
 *   if (isConvoApiError(error, "NOT_FOUND")) return undefined;
 *   throw error;
 * });
 */
export function isConvoApiError(error: unknown, code?: string): error is ConvoApiError {
  return error instanceof ConvoApiError && (code === undefined || error.code === code);
}

/** True when `error` is the abort of `signal` (the caller gave up), which is never retried. */
export function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === "AbortError");
}

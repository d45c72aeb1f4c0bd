/**
 * Convo's typed errors. Each carries a stable upper-case `code`, the HTTP status the
 * server answers with and JSON-safe `details`; the server's one error handler maps
 * them, and library users can branch on `code` without parsing messages.
 */
export type ErrorDetails = Record<string, unknown> | unknown[] | undefined;

/**
 * The base of Convo's errors: catch it (or test with `isConvoError`) and branch on the
 * stable `code`; `status` is what the HTTP API answers with.
 *
 * @example
 * try {
 *   await convo.state.patch(userId, conversationId, { step: 3 }, version);
 * } catch (error) {
 *   if (error instanceof ConvoError && error.code === "STATE_VERSION_CONFLICT") return reloadAndRetry();
 *   throw error;
 * }
 */
export class ConvoError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: string, status: number, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = options.details;
  }

  /** The `{ code, message, details }` body the HTTP API answers with. */
  toJSON(): { code: string; message: string; details?: ErrorDetails } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** What a wrapping error carries along: the error it wraps. */
export interface ErrorOptions {
  cause?: unknown;
}

/**
 * An input value is not acceptable (422); `details.field` names the offending field.
 *
 * @example
 * throw new ValidationError("title is 31 characters long; the limit is 30", { field: "title" });
 */
export class ValidationError extends ConvoError {
  constructor(message: string, details?: ErrorDetails, code = "VALIDATION_FAILED", options: ErrorOptions = {}) {
    super(code, 422, message, { details, cause: options.cause });
  }
}

/**
 * A request is malformed in a way the client should fix before resending (400).
 *
 * @example
 * throw new BadRequestError("cursor is not one of ours", "INVALID_CURSOR");
 */
export class BadRequestError extends ConvoError {
  constructor(message: string, code = "BAD_REQUEST", details?: ErrorDetails, options: ErrorOptions = {}) {
    super(code, 400, message, { details, cause: options.cause });
  }
}

/**
 * Not found — or not the caller's, which is deliberately indistinguishable (404).
 *
 * @example
 * throw new NotFoundError("conversation", conversationId);
 */
export class NotFoundError extends ConvoError {
  constructor(what: string, id?: string, options: ErrorOptions = {}) {
    super("NOT_FOUND", 404, id ? `${what} ${id} not found` : `${what} not found`, {
      details: id ? { resource: what, id } : { resource: what },
      cause: options.cause,
    });
  }
}

/**
 * The request conflicts with the current state (409): stale version, closed dialog…
 *
 * @example
 * throw new ConflictError("STATE_VERSION_CONFLICT", "The state is at version 3, not 2", { currentVersion: 3, expectedVersion: 2 });
 */
export class ConflictError extends ConvoError {
  constructor(code: string, message: string, details?: ErrorDetails, options: ErrorOptions = {}) {
    super(code, 409, message, { details, cause: options.cause });
  }
}

/**
 * Too many requests or runs for a user or node (429).
 *
 * @example
 * throw new RateLimitError("This user already has 3 runs running", { limit: "user", max: 3 });
 */
export class RateLimitError extends ConvoError {
  constructor(message: string, details?: ErrorDetails, options: ErrorOptions = {}) {
    super("RATE_LIMITED", 429, message, { details, cause: options.cause });
  }
}

/**
 * The database cannot be reached (503). Any Convo call can throw it while the
 * database is down; retry later, with the same `clientMessageId` where the call takes
 * one, so a write that did reach the database is not stored twice.
 *
 * @example
 * try {
 *   await convo.messages.appendToCurrent(userId, { role: "user", content: "Привет!", clientMessageId });
 * } catch (error) {
 *   if (error instanceof DatabaseUnavailableError) return retryLater(); // with the same clientMessageId
 *   throw error;
 * }
 */
export class DatabaseUnavailableError extends ConvoError {
  constructor(message: string, cause?: unknown) {
    super("DATABASE_UNAVAILABLE", 503, message, { cause });
  }
}

/**
 * No credentials, or credentials that are not valid (401).
 *
 * @example
 * throw new UnauthorizedError("token is not valid or has expired", { cause: joseError });
 */
export class UnauthorizedError extends ConvoError {
  constructor(message: string, options: ErrorOptions = {}) {
    super("UNAUTHORIZED", 401, message, options);
  }
}

/**
 * This node is shutting down and starts no new runs (503: retry on another node).
 * Thrown by `convo.runs.start` once `convo.close()` has begun.
 *
 * @example
 * try {
 *   await convo.runs.start(userId, conversationId, { content: "Привет!", clientMessageId });
 * } catch (error) {
 *   if (error instanceof NodeShuttingDownError) return reply.status(503).header("retry-after", "1").send();
 *   throw error;
 * }
 */
export class NodeShuttingDownError extends ConvoError {
  constructor(options: ErrorOptions = {}) {
    super("NODE_SHUTTING_DOWN", 503, "This node is shutting down and starts no new runs; retry on another node", options);
  }
}

/** How a run was stopped from outside its model stream. */
export type StopReason = "cancel" | "shutdown" | "lost" | "storage";

/**
 * A background run's failure, as reported to `onBackgroundError` (it is also the run's
 * `error` event). Never an HTTP answer: the run's client reads it from the events.
 *
 * @example
 * const convo = await openConvo({
 *   onBackgroundError: (error) => {
 *     if (error instanceof RunFailure) console.warn(`run ${error.runId} failed: ${error.code}`, error.message);
 *     else console.error(error);
 *   },
 * });
 */
export class RunFailure extends ConvoError {
  constructor(
    readonly runId: string,
    code: string,
    message: string,
    options: ErrorOptions = {},
  ) {
    super(code, 500, message, { details: { runId }, cause: options.cause });
  }
}

/**
 * The embedded data directory is already open in another live process. Thrown by
 * `openConvo` on PGlite; the message names the process and the ways out.
 *
 * @example
 * try {
 *   convo = await openConvo({ dataDir: "./.convo-data" });
 * } catch (error) {
 *   if (error instanceof DataDirectoryLockedError) console.error(error.message); // e.g. stop the other process
 *   throw error;
 * }
 */
export class DataDirectoryLockedError extends ConvoError {
  constructor(dataDir: string, pid: number) {
    super(
      "DATA_DIRECTORY_LOCKED",
      503,
      `The data directory ${dataDir} is in use by process ${pid}. PGlite allows one process per directory: stop that process, or use another --data-dir, or use PostgreSQL (DATABASE_URL) for several processes.`,
      { details: { dataDir, pid } },
    );
  }
}

/**
 * Narrows an unknown caught value to a ConvoError, to branch on its `code`.
 *
 * @example
 * try {
 *   await convo.messages.append(userId, conversationId, { role: "user", content: "Привет!" });
 * } catch (error) {
 *   if (isConvoError(error) && error.code === "CONVERSATION_CLOSED") return startNewConversation();
 *   throw error;
 * }
 */
export function isConvoError(value: unknown): value is ConvoError {
  return value instanceof ConvoError;
}

/**
 * Failures of work nobody is waiting for: after-commit hooks, NOTIFY, lease
 * heartbeats, run tails, a run's own storage, pool and LISTEN connections. They never
 * reach a caller, so each is handed to the host with where it happened; the server
 * logs and counts every one (`convo_background_errors_total{source}`).
 */

/** Where a background failure happened. */
export type BackgroundSource =
  /** An `afterCommit` hook (launching a run, announcing a message). */
  | "after-commit"
  /** Sending NOTIFY after a commit. */
  | "notify"
  /** The LISTEN connection: dropped, or reconnecting failed. */
  | "listen"
  /** A pooled PostgreSQL connection failed (idle or checked out). */
  | "pool"
  /** Extending the leases of this node's runs. */
  | "lease-heartbeat"
  /** The shared reader of a followed run's events. */
  | "tail-read"
  /** A run failed (model error, storage failure, interrupted). */
  | "run"
  /** A subscriber of notices threw. */
  | "dispatch"
  /** Writing a conversation's summary failed (it is retried by the sweep). */
  | "summary"
  /** The search indexer failed in a sweep (the next sweep retries). */
  | "search-index";

/** What a background failure is about. */
export interface BackgroundContext {
  source: BackgroundSource;
  runId?: string;
  userId?: string;
  conversationId?: string;
}

/**
 * Receives background failures (`openConvo({ onBackgroundError })`).
 *
 * @example
 * openConvo({ onBackgroundError: (error, { source, runId }) => log.error({ err: error, source, runId }, "background failure") });
 */
export type BackgroundErrorHandler = (error: unknown, context: BackgroundContext) => void;

/** Erasure of everything Convo holds about a user. */

/**
 * Every table holding a user's rows, children before parents, so each count in the
 * receipt is that table's own rows (a cascade would hide them). A table added to the
 * schema with a `user_id` must be added here: the erasure test compares this list
 * with the catalog and fails otherwise.
 */
export const ERASED_TABLES = [
  "webhook_attempts",
  "webhook_deliveries",
  "webhook_events",
  "run_events",
  "runs",
  "conversation_states",
  "message_search",
  "messages",
  "assistant_sessions",
  "conversation_totals",
  "conversations",
  "users",
] as const;

export type ErasedTable = (typeof ERASED_TABLES)[number];

/**
 * Tables that hold no user data, left alone by erasure: operator configuration (admin
 * keys, webhook subscriptions, the server's own secrets such as the cursor key) and
 * migration bookkeeping.
 */
export const NON_USER_TABLES = ["api_keys", "webhook_subscriptions", "server_secrets", "__convo_migrations"] as const;

/** What an erasure removed. */
export interface ErasureReceipt {
  userId: string;
  erasedAt: Date;
  /** Rows removed, per table (every table of `ERASED_TABLES`, zeros included). */
  tables: Record<ErasedTable, number>;
  /** The sum of `tables`. */
  total: number;
}

/** The export of everything Convo holds about a user. */

/** Record types of an export, in the order they are written. */
export const EXPORT_SECTIONS = [
  { type: "user", table: "users", key: ["id"] },
  { type: "conversation", table: "conversations", key: ["id"] },
  { type: "message", table: "messages", key: ["conversation_id", "seq"] },
  { type: "state", table: "conversation_states", key: ["conversation_id"] },
  { type: "run", table: "runs", key: ["id"] },
  { type: "run_event", table: "run_events", key: ["run_id", "seq"] },
  { type: "dialog", table: "assistant_sessions", key: ["id"] },
  { type: "webhook_event", table: "webhook_events", key: ["id"] },
  { type: "webhook_delivery", table: "webhook_deliveries", key: ["id"] },
  { type: "webhook_attempt", table: "webhook_attempts", key: ["delivery_id", "attempt"] },
] as const;

export type ExportRecordType = (typeof EXPORT_SECTIONS)[number]["type"] | "export";

/**
 * One line of an export: `{ "type": "message", "data": { … } }`, the row's columns in
 * camelCase. The first line is `{ "type": "export", "data": { userId, exportedAt, format } }`.
 * Conversation summaries are in `conversation` records; rolling summaries are
 * `message` records with `summaryFromSeq`/`summaryToSeq`.
 */
export interface ExportRecord {
  type: ExportRecordType;
  data: Record<string, unknown>;
}

export interface ExportOptions {
  /** Rows read per query (default 500): memory use is bounded by one batch. */
  batchSize?: number;
  /** Called after each batch is read (progress bars, tests): the record type and the rows in it. */
  onBatch?: (type: ExportRecordType, rows: number) => void;
}

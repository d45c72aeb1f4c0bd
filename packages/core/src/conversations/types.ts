/** The shapes of conversations, as stored and as the library answers them. */
import type { CloseReason, ConversationStatus, TitleSource } from "@convo/protocol";
import type { Page } from "../cursor.js";
import type { conversations } from "../db/schema.js";
import type { Message } from "../messages/index.js";

export type { CloseReason, ConversationStatus, TitleSource } from "@convo/protocol";

export type ConversationRow = typeof conversations.$inferSelect;

export type StatusFilter = "active" | "closed";

export interface Conversation {
  id: string;
  userId: string;
  externalId: string | null;
  title: string | null;
  titleSource: TitleSource | null;
  env: string;
  status: ConversationStatus;
  isActive: boolean;
  messageCount: number;
  summary: string | null;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  closeReason: CloseReason | null;
}

/** The columns a `Conversation` is made of (what the list reads). */
export type ConversationFields = Pick<
  ConversationRow,
  | "id"
  | "userId"
  | "externalId"
  | "title"
  | "titleSource"
  | "env"
  | "messageCount"
  | "summary"
  | "createdAt"
  | "updatedAt"
  | "closedAt"
  | "closeReason"
>;

/** The select list of `ConversationFields`, for raw statements. */
export const CONVERSATION_FIELDS =
  "user_id, id, external_id, title, title_source, env, summary, message_count, created_at, updated_at, closed_at, close_reason";

/**
 * The public Conversation of a stored row. `activeSince` (now minus the inactivity
 * threshold) decides whether an open conversation is `active` or `inactive`.
 *
 * @example
 * const row = await uow.conversations.find(userId, conversationId);
 * const conversation = row && toConversation(row, new Date(uow.now.getTime() - convo.lifecycle.inactivityMs));
 */
export function toConversation(row: ConversationFields, activeSince: Date): Conversation {
  const status: ConversationStatus = row.closedAt ? "closed" : row.updatedAt > activeSince ? "active" : "inactive";
  return {
    id: row.id,
    userId: row.userId,
    externalId: row.externalId,
    title: row.title,
    titleSource: row.titleSource as TitleSource | null,
    env: row.env,
    status,
    isActive: status === "active",
    messageCount: row.messageCount,
    summary: row.summary,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    closedAt: row.closedAt,
    closeReason: row.closeReason as CloseReason | null,
  };
}

export interface CreateConversationInput {
  title?: string;
  env?: string;
  /** The client's own key for the conversation (e.g. `480637186_1767475520`). */
  externalId?: string;
  /** Close the user's open conversations in this env first ("start a new chat"). */
  closeCurrent?: boolean;
}

export interface ListConversationsOptions {
  limit?: number;
  cursor?: string;
  status?: StatusFilter;
  env?: string;
}

export interface ConversationList extends Page<Conversation> {
  total: number;
}

export interface ConversationDetail extends Conversation {
  messages: Message[];
  /** True when the conversation has more than the messages included (page with `messages.page`). */
  hasMoreMessages: boolean;
}

const date = (value: unknown) => (value == null ? null : value instanceof Date ? value : new Date(String(value)));

/**
 * The `ConversationFields` of a raw row selected with `CONVERSATION_FIELDS`.
 *
 * @example
 * const rows = await queryText<Record<string, unknown>>(db, `SELECT ${CONVERSATION_FIELDS} FROM conversations WHERE user_id = $1`, [userId]);
 * const conversations = rows.map(conversationFieldsFromRaw);
 */
export const conversationFieldsFromRaw = (c: Record<string, unknown>): ConversationFields => ({
  userId: c.user_id as string,
  id: c.id as string,
  externalId: (c.external_id as string | null) ?? null,
  title: (c.title as string | null) ?? null,
  titleSource: (c.title_source as string | null) ?? null,
  env: c.env as string,
  summary: (c.summary as string | null) ?? null,
  messageCount: Number(c.message_count),
  createdAt: date(c.created_at) as Date,
  updatedAt: date(c.updated_at) as Date,
  closedAt: date(c.closed_at),
  closeReason: (c.close_reason as string | null) ?? null,
});

/**
 * A conversation row from raw SQL or `to_jsonb` (snake_case; times as Date or text).
 *
 * @example
 * const rows = await queryRows<Record<string, unknown>>(db, sql`SELECT * FROM conversations WHERE id = ${id}`);
 * const row = rows[0] ? conversationFromRaw(rows[0]) : undefined;
 */
export const conversationFromRaw = (c: Record<string, unknown>): ConversationRow => ({
  ...conversationFieldsFromRaw(c),
  lastSeq: Number(c.last_seq),
  summarySeq: Number(c.summary_seq ?? 0),
  summaryPendingAt: date(c.summary_pending_at),
  summaryAttempts: Number(c.summary_attempts ?? 0),
  summaryWarning: (c.summary_warning as string | null) ?? null,
  summaryAttemptedAt: date(c.summary_attempted_at),
  searchSeq: Number(c.search_seq ?? 0),
});

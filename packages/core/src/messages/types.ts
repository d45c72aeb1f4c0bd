/** The shapes of messages, as stored and as the library answers them. */

import type { Role } from "@convo/protocol";
import type { Conversation } from "../conversations/index.js";
import type { messages } from "../db/schema.js";

export type { Role } from "@convo/protocol";

export type MessageRow = typeof messages.$inferSelect;

export interface NewMessage {
  userId: string;
  conversationId: string;
  role: Role;
  content: string;
  parts?: unknown[] | null;
  noise?: boolean;
  clientMessageId?: string | null;
  runId?: string | null;
  /** The message's id; default a random UUID (a run's answer takes the run's id, known from its start). */
  id?: string;
  /** Title to give the conversation if it has none yet (first user message). */
  autoTitle?: string | null;
  now: Date;
}

export interface Message {
  id: string;
  conversationId: string;
  userId: string;
  seq: number;
  role: Role;
  content: string;
  parts: unknown[] | null;
  noise: boolean;
  clientMessageId: string | null;
  runId: string | null;
  createdAt: Date;
}

/**
 * The public Message of a stored row (what the library and the API answer).
 *
 * @example
 * const rows = await uow.messages.page(userId, conversationId, 0, 100);
 * const messages = rows.map(toMessage);
 */
export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversationId,
    userId: row.userId,
    seq: row.seq,
    role: row.role as Role,
    content: row.content,
    parts: row.parts,
    noise: row.noise,
    clientMessageId: row.clientMessageId,
    runId: row.runId,
    createdAt: row.createdAt,
  };
}

/**
 * The parameters $1–$10 of the append CTEs (db/append-cte.ts) for `msg`.
 *
 * @example
 * const [stored] = await queryText<{ id: string; seq: number }>(db, `${appendCte()} SELECT ins.id, ins.seq FROM ins`, appendParams(msg));
 */
export function appendParams(msg: NewMessage): unknown[] {
  const parts = msg.parts ?? null;
  return [
    msg.userId,
    msg.conversationId,
    msg.role,
    msg.content,
    parts === null ? null : JSON.stringify(parts),
    msg.noise ?? false,
    msg.runId ?? null,
    msg.now,
    msg.autoTitle ?? null,
    msg.id ?? null,
  ];
}

/**
 * The row an append without a `clientMessageId` stored (db/append-cte.ts): the
 * statement answers only what the database chose, the id and the seq; the rest is
 * the input.
 *
 * @example
 * const [stored] = await queryText<{ id: string; seq: number }>(db, APPEND_FAST, params);
 * const message = toMessage(appendedRow(msg, stored.id, Number(stored.seq)));
 */
export function appendedRow(msg: NewMessage, id: string, seq: number): MessageRow {
  return {
    userId: msg.userId,
    id,
    conversationId: msg.conversationId,
    seq,
    role: msg.role,
    content: msg.content,
    parts: msg.parts ?? null,
    noise: msg.noise ?? false,
    clientMessageId: null,
    runId: msg.runId ?? null,
    // Rolling summaries are written by the summaries repository, never through an append.
    summaryFromSeq: null,
    summaryToSeq: null,
    createdAt: msg.now,
  };
}

export interface MessageInput {
  role: Role;
  content: string;
  /** Structured parts: tool calls, attachments (a Telegram `file_id`…). */
  parts?: unknown[] | null;
  /** System noise (welcome text, notices) the context loader leaves out. */
  noise?: boolean;
  /** The client's id for this message: sending it again stores nothing new. */
  clientMessageId?: string;
  /** The run this message belongs to, for assistant messages written by a run. */
  runId?: string;
}

export interface AppendToCurrentInput extends MessageInput {
  /** Append to the conversation with this client key, creating it on first use. */
  externalId?: string;
  env?: string;
}

export interface AppendResult {
  message: Message;
  /** False when `clientMessageId` had been stored before: this is that message. */
  created: boolean;
}

export interface AppendToCurrentResult extends AppendResult {
  conversation: Conversation;
  conversationCreated: boolean;
}

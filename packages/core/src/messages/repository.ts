/** SQL for messages: the gap-free, idempotent append and the reads. */
import { and, asc, desc, eq, gt, sql } from "drizzle-orm";
import { type ConversationRow, conversationFromRaw } from "../conversations/types.js";
import { appendCte } from "../db/append-cte.js";
import { type Db, queryRows, queryText } from "../db/engine.js";
import { conversations, messages } from "../db/schema.js";
import { appendedRow, appendParams, type MessageRow, type NewMessage } from "./types.js";

interface RawMessage {
  user_id: string;
  id: string;
  conversation_id: string;
  seq: number;
  role: string;
  content: string;
  parts: unknown[] | null;
  noise: boolean;
  client_message_id: string | null;
  run_id: string | null;
  created_at: Date | string;
  summary_from_seq?: number | null;
  summary_to_seq?: number | null;
  /** The conversation as the append left it (`to_jsonb` of the updated row). */
  conversation: Record<string, unknown> | null;
}

// `last` passes the user and conversation it asked for (they are its parameters, not
// columns); writing them onto the driver's row objects instead took V8's slow path for
// adding properties: ~60 µs of CPU per page of 20 (profiled under HTTP W2), plus the GC.
const fromRaw = (r: Omit<RawMessage, "user_id" | "conversation_id">, userId: string, conversationId: string): MessageRow => ({
  userId,
  id: r.id,
  conversationId,
  seq: Number(r.seq),
  role: r.role,
  content: r.content,
  parts: r.parts,
  noise: r.noise,
  clientMessageId: r.client_message_id,
  runId: r.run_id,
  createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  summaryFromSeq: r.summary_from_seq == null ? null : Number(r.summary_from_seq),
  summaryToSeq: r.summary_to_seq == null ? null : Number(r.summary_to_seq),
});

const m = messages;

// The columns are named (a prepared statement's result type must not change when a
// later migration adds one; see queryText), and the user and conversation ids are the
// parameters, so they are not sent back.
const LAST_FIELDS =
  "id, seq, role, content, parts, noise, client_message_id, run_id, created_at, summary_from_seq, summary_to_seq";
const LAST = `SELECT ${LAST_FIELDS} FROM messages WHERE user_id = $1 AND conversation_id = $2 ORDER BY seq DESC LIMIT $3`;
const LAST_WITHOUT_NOISE = `SELECT ${LAST_FIELDS} FROM messages
  WHERE user_id = $1 AND conversation_id = $2 AND noise = false ORDER BY seq DESC LIMIT $3`;

// RETURNING only what the database chose (id, seq): the rest of the row is the input,
// and echoing the content back costs the driver a parse per call. The CTEs are shared
// with the run start (db/append-cte.ts).
const APPEND_FAST = `${appendCte()} SELECT ins.id, ins.seq FROM ins`;
const APPEND_FAST_WITH_CONVERSATION = `${appendCte()} SELECT ins.id, ins.seq, to_jsonb(c) AS conversation FROM ins, c`;

export class MessagesRepository {
  constructor(private readonly db: Db) {}

  /**
   * Appends a message in one statement. The conversation row is locked (`FOR UPDATE`)
   * while the next `seq` is read from its counter, so concurrent writers queue and
   * `seq` is gap-free; the counter, message count, activity time and first title are
   * updated in the same statement. A `clientMessageId` already stored makes the insert
   * do nothing (and nothing else changes): the answer is then undefined, and the caller
   * reads the stored message. Undefined is also the answer when the conversation does
   * not exist or is closed. Answers the conversation as the statement left it too, so
   * callers need no second read.
   */
  async append(
    msg: NewMessage,
    options: { withConversation?: boolean } = {},
  ): Promise<{ message: MessageRow; conversation?: ConversationRow } | undefined> {
    if (!msg.clientMessageId) return this.#appendFast(msg, options);
    // The conversation is serialised only for callers that answer it (append-to-current).
    const answer = options.withConversation
      ? sql`SELECT ins.*, to_jsonb(bump) AS conversation FROM ins, bump`
      : sql`SELECT ins.*, NULL AS conversation FROM ins`;
    const now = msg.now.toISOString();
    const parts = msg.parts == null ? null : JSON.stringify(msg.parts);
    const result = await queryRows<Record<string, unknown>>(
      this.db,
      sql`
      WITH ins AS (
        INSERT INTO ${m} (user_id, id, conversation_id, seq, role, content, parts, noise, client_message_id, run_id, created_at)
        SELECT c.user_id, COALESCE(${msg.id ?? null}::uuid, gen_random_uuid()), c.id, c.last_seq + 1, ${msg.role}, ${msg.content},
               ${parts}::jsonb, ${msg.noise ?? false}, ${msg.clientMessageId ?? null}, ${msg.runId ?? null}::uuid,
               ${now}::timestamptz
        FROM ${conversations} c
        WHERE c.user_id = ${msg.userId} AND c.id = ${msg.conversationId} AND c.closed_at IS NULL
        FOR UPDATE
        ON CONFLICT (user_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
        RETURNING *
      ), bump AS (
        UPDATE ${conversations} AS c SET
          last_seq = ins.seq,
          message_count = c.message_count + 1,
          updated_at = GREATEST(c.updated_at, ${now}::timestamptz),
          title = CASE WHEN c.title IS NULL THEN ${msg.autoTitle ?? null}::text ELSE c.title END,
          title_source = CASE WHEN c.title IS NULL AND ${msg.autoTitle ?? null}::text IS NOT NULL THEN 'heuristic' ELSE c.title_source END
        FROM ins WHERE c.user_id = ins.user_id AND c.id = ins.conversation_id
        RETURNING c.*
      )
      ${answer}`,
    );
    const raw = result[0] as unknown as RawMessage | undefined;
    if (!raw) return undefined;
    return {
      message: fromRaw(raw, raw.user_id, raw.conversation_id),
      conversation: raw.conversation ? conversationFromRaw(raw.conversation) : undefined,
    };
  }

  /**
   * The append without a `clientMessageId` (the common case), in the shape of the
   * minimal reference: the UPDATE takes the conversation's row lock and the next `seq`
   * (re-read on the newest row version if another writer got there first, so `seq`
   * stays gap-free), and the INSERT takes it from the UPDATE. With no conflict possible
   * the insert cannot fail after the counter moved, so no gap either. Plain text on the
   * driver: see `queryText`.
   */
  async #appendFast(
    msg: NewMessage,
    options: { withConversation?: boolean },
  ): Promise<{ message: MessageRow; conversation?: ConversationRow } | undefined> {
    const rows = await queryText<{ id: string; seq: number; conversation?: Record<string, unknown> }>(
      this.db,
      options.withConversation ? APPEND_FAST_WITH_CONVERSATION : APPEND_FAST,
      appendParams(msg),
    );
    const raw = rows[0];
    if (!raw) return undefined;
    const message = appendedRow(msg, raw.id, Number(raw.seq));
    return { message, conversation: raw.conversation ? conversationFromRaw(raw.conversation) : undefined };
  }

  async findByClientId(userId: string, clientMessageId: string): Promise<MessageRow | undefined> {
    const rows = await this.db
      .select()
      .from(m)
      .where(and(eq(m.userId, userId), eq(m.clientMessageId, clientMessageId)))
      .limit(1);
    return rows[0];
  }

  /** The conversation's user message `id` (when given) or its last user message. */
  async lastUserMessage(userId: string, conversationId: string, id?: string): Promise<MessageRow | undefined> {
    const rows = await this.db
      .select()
      .from(m)
      .where(
        and(
          eq(m.userId, userId),
          eq(m.conversationId, conversationId),
          eq(m.role, "user"),
          id === undefined ? undefined : eq(m.id, id),
        ),
      )
      .orderBy(desc(m.seq))
      .limit(1);
    return rows[0];
  }

  async find(userId: string, id: string): Promise<MessageRow | undefined> {
    const rows = await this.db
      .select()
      .from(m)
      .where(and(eq(m.userId, userId), eq(m.id, id)))
      .limit(1);
    return rows[0];
  }

  /** Messages with `seq > afterSeq`, oldest first; one more than `limit` to detect more. */
  async page(userId: string, conversationId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    return this.db
      .select()
      .from(m)
      .where(and(eq(m.userId, userId), eq(m.conversationId, conversationId), gt(m.seq, afterSeq)))
      .orderBy(asc(m.seq))
      .limit(limit + 1);
  }

  /**
   * The last `limit` messages, oldest first; noise left out when asked. Plain text on
   * the driver (`queryText`): this is the context loader's read and W2's.
   */
  async last(
    userId: string,
    conversationId: string,
    limit: number,
    options: { withoutNoise?: boolean } = {},
  ): Promise<MessageRow[]> {
    const rows = await queryText<Omit<RawMessage, "user_id" | "conversation_id">>(
      this.db,
      options.withoutNoise ? LAST_WITHOUT_NOISE : LAST,
      [userId, conversationId, limit],
    );
    const out = new Array<MessageRow>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      out[rows.length - 1 - i] = fromRaw(rows[i], userId, conversationId);
    }
    return out;
  }
}

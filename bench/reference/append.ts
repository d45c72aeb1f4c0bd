/**
 * The raw reference for appends: the best hand-written SQL with the same guarantees
 * as the library — `seq` gap-free under concurrent writers (the conversation's row is
 * locked while its counter is read), `message_count`, `updated_at` and the first title
 * kept in the same statement — issued straight through the driver.
 */
import { heuristicTitle } from "@convo/core";
import type { RawDb, RawQuery } from "../lib/engines.js";

/** What one append writes. */
export interface RawAppendInput {
  userId: string;
  conversationId: string;
  role: "user" | "assistant";
  content: string;
}

/** The stored message as the raw driver answers it. */
export type RawMessageRow = Record<string, unknown> & { seq: number };

/**
 * The append statement: insert the message with the conversation's next `seq` (its row
 * locked FOR UPDATE), then bump the conversation's counters, activity time and first
 * title. The same single statement the library issues; `RETURNING` also answers the
 * conversation's new count so appendToCurrent needs no extra read.
 */
const APPEND_SQL = `
WITH ins AS (
  INSERT INTO messages (user_id, id, conversation_id, seq, role, content, parts, noise, client_message_id, run_id, created_at)
  SELECT c.user_id, gen_random_uuid(), c.id, c.last_seq + 1, $3, $4, NULL, false, NULL, NULL, $5::timestamptz
  FROM conversations c
  WHERE c.user_id = $1 AND c.id = $2 AND c.closed_at IS NULL
  FOR UPDATE
  ON CONFLICT (user_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
  RETURNING *
), bump AS (
  UPDATE conversations AS c SET
    last_seq = ins.seq,
    message_count = c.message_count + 1,
    updated_at = GREATEST(c.updated_at, $5::timestamptz),
    title = CASE WHEN c.title IS NULL THEN $6::text ELSE c.title END,
    title_source = CASE WHEN c.title IS NULL AND $6::text IS NOT NULL THEN 'heuristic' ELSE c.title_source END
  FROM ins WHERE c.user_id = ins.user_id AND c.id = ins.conversation_id
  RETURNING c.message_count, c.updated_at AS conversation_updated_at, c.title
)
SELECT ins.*, bump.message_count, bump.conversation_updated_at, bump.title FROM ins, bump`;

/** Appends one message with `query` (a pool, PGlite, or an open transaction). */
export async function rawAppend(query: RawQuery, input: RawAppendInput, now = new Date()): Promise<RawMessageRow> {
  // The title rule is the product's, not the layer's, so the reference uses the same function.
  const title = input.role === "user" ? (heuristicTitle(input.content) ?? null) : null;
  const rows = await query<RawMessageRow>(APPEND_SQL, [
    input.userId,
    input.conversationId,
    input.role,
    input.content,
    now.toISOString(),
    title,
  ]);
  const row = rows[0];
  if (!row) throw new Error(`conversation ${input.conversationId} is missing or closed`);
  return row;
}

/** What appendToCurrent takes in the raw reference. */
export interface RawAppendToCurrentInput {
  userId: string;
  role: "user" | "assistant";
  content: string;
  /** Conversations idle longer than this are not current (30 minutes, as the library's default). */
  inactivityMs?: number;
}

/**
 * "This user said X", by hand: BEGIN; lock the user's row (so two first messages cannot
 * open two conversations); find the active conversation FOR UPDATE, or close the idle
 * ones and open a new one; append; COMMIT.
 */
export function rawAppendToCurrent(raw: RawDb, input: RawAppendToCurrentInput): Promise<RawMessageRow> {
  const now = new Date();
  const activeSince = new Date(now.getTime() - (input.inactivityMs ?? 30 * 60_000)).toISOString();
  return raw.transaction(async (query) => {
    const user = await query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", [input.userId]);
    if (user.length === 0) throw new Error(`user ${input.userId} not found`);
    const active = await query<{ id: string }>(
      `SELECT id FROM conversations
       WHERE user_id = $1 AND env = 'prod' AND closed_at IS NULL AND updated_at > $2::timestamptz
       ORDER BY updated_at DESC, id DESC LIMIT 1
       FOR UPDATE`,
      [input.userId, activeSince],
    );
    let conversationId = active[0]?.id;
    if (!conversationId) {
      // Rare path (first message, or after 30 idle minutes): one statement closes the
      // idle conversations, opens the new one and counts it.
      const created = await query<{ id: string }>(
        `WITH closed AS (
           UPDATE conversations SET closed_at = $2::timestamptz, close_reason = 'inactivity'
           WHERE user_id = $1 AND env = 'prod' AND closed_at IS NULL AND updated_at <= $3::timestamptz
           RETURNING 1
         ), counted AS (
           INSERT INTO conversation_totals (user_id, env, total) VALUES ($1, 'prod', 1)
           ON CONFLICT (user_id, env) DO UPDATE SET total = conversation_totals.total + 1
           RETURNING 1
         )
         INSERT INTO conversations (user_id, env, created_at, updated_at)
         SELECT $1, 'prod', $2::timestamptz, $2::timestamptz FROM counted
         RETURNING id`,
        [input.userId, now.toISOString(), activeSince],
      );
      conversationId = created[0].id;
    }
    return rawAppend(query, { userId: input.userId, conversationId, role: input.role, content: input.content }, now);
  });
}

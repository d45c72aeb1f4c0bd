/**
 * The raw reference for reads: hand-written SQL on the same schema and indexes as the
 * library, through the bare driver.
 */
import type { RawDb, RawQuery } from "../lib/engines.js";

type Row = Record<string, unknown>;

/**
 * The last `limit` messages of a conversation, oldest first: one indexed read on
 * (user_id, conversation_id, seq) backwards. With `withoutNoise`, noise messages are
 * left out, as the context loader does.
 */
export async function rawLastMessages(
  query: RawQuery,
  userId: string,
  conversationId: string,
  limit: number,
  withoutNoise = false,
): Promise<Row[]> {
  const rows = await query(
    `SELECT * FROM messages
     WHERE user_id = $1 AND conversation_id = $2${withoutNoise ? " AND noise = false" : ""}
     ORDER BY seq DESC LIMIT $3`,
    [userId, conversationId, limit],
  );
  return rows.reverse();
}

/**
 * What `convo.context.load(userId, { conversationId, historyLimit, sessionsLimit: 0 })`
 * reads, by hand: the user's profile, the conversation and its last messages without
 * noise, in one transaction.
 */
export function rawContextReads(raw: RawDb, userId: string, conversationId: string, limit: number) {
  return raw.transaction(async (query) => {
    const [user] = await query("SELECT profile FROM users WHERE id = $1", [userId]);
    const [conversation] = await query("SELECT * FROM conversations WHERE user_id = $1 AND id = $2", [userId, conversationId]);
    if (!user || !conversation) throw new Error("user or conversation not found");
    const history = await rawLastMessages(query, userId, conversationId, limit, true);
    return { profile: user.profile, conversation, history };
  });
}

/** A keyset position in a user's conversation list (newest activity first). */
export interface RawPosition {
  updatedAt: string;
  id: string;
}

/** The keyset page statement: first page, or the page after `after`. */
export function conversationPageQuery(userId: string, limit: number, after?: RawPosition) {
  return after
    ? {
        text: `SELECT * FROM conversations
               WHERE user_id = $1 AND (updated_at, id) < ($2::timestamptz, $3::uuid)
               ORDER BY updated_at DESC, id DESC LIMIT $4`,
        params: [userId, after.updatedAt, after.id, limit] as unknown[],
      }
    : {
        text: "SELECT * FROM conversations WHERE user_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2",
        params: [userId, limit] as unknown[],
      };
}

/**
 * One page of a user's conversations, newest activity first, after `after`, with the
 * user's total from the kept `conversation_totals` (no `count(*)` over the history):
 * two indexed reads. They need no transaction — under READ COMMITTED one would not
 * give them a common snapshot anyway.
 */
export async function rawConversationPage(query: RawQuery, userId: string, limit: number, after?: RawPosition) {
  const page = conversationPageQuery(userId, limit + 1, after);
  const rows = await query(page.text, page.params);
  const [totals] = await query<{ total: number | string }>(
    "SELECT COALESCE(SUM(total), 0) AS total FROM conversation_totals WHERE user_id = $1",
    [userId],
  );
  return { items: rows.slice(0, limit), hasMore: rows.length > limit, total: Number(totals?.total ?? 0) };
}

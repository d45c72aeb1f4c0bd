/**
 * The search SQL, and the indexer that keeps `message_search` (migration 0007).
 *
 * Messages and conversations (title + summary) are matched with the `russian`
 * text-search configuration — Cyrillic words through the Russian Snowball stemmer,
 * ASCII words through the English one. Nothing on the append path writes a search
 * index, so each kind of hit comes from two disjoint branches:
 *
 * - messages with `seq <= conversations.search_seq` are read from `message_search`
 *   (GIN on `document`); the others — open conversations, normally one or two per
 *   user, and closed ones the indexer has not reached — are matched on the fly. The
 *   indexer writes the rows and moves `search_seq` in one transaction, and only ever
 *   forward, so a message is in exactly one branch in any snapshot;
 * - closed conversations are matched through the partial GIN `conversations_search_idx`
 *   (`closed_at IS NOT NULL`), open ones on the fly.
 *
 * Emoji are not words to PostgreSQL's parser, so they are matched literally; a query
 * of emoji only needs no vector at all and reads the user's messages in one branch.
 * Every branch filters on the user's id; the message branches reach rows through the
 * user's conversations (the message keys do not begin with `user_id`).
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";
import type { SearchHit, SearchHitKind, SearchPosition } from "./types.js";

export interface SearchQuery {
  /** The text for `websearch_to_tsquery`, or undefined when the query has no words. */
  words?: string;
  /** Emoji (and other pictographs) every hit must contain literally. */
  symbols: string[];
  /** A conversation to leave out. */
  excludeConversationId?: string;
}

/** A uuid[] parameter, as an array literal (both drivers pass a string through unchanged). */
const uuidArray = (ids: string[]) => sql`${`{${ids.join(",")}}`}::uuid[]`;

/** Escapes LIKE's wildcards so the text is matched literally. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

interface RawHit {
  kind: SearchHitKind;
  id: string;
  conversation_id: string;
  title: string | null;
  seq: number | null;
  role: string | null;
  rank: number | string;
  at: Date | string;
  /** The time as PostgreSQL prints it (microseconds kept, for the cursor). */
  at_text: string;
  snippet: string;
}

/** A hit with its exact position in the list. */
export interface PositionedHit {
  hit: SearchHit;
  position: SearchPosition;
}

// The expressions here must stay identical to the indexed ones (migration 0007), and
// MESSAGE_VECTOR to what the indexer stores, so a message ranks the same either way.
const MESSAGE_VECTOR = sql.raw(`to_tsvector('russian'::regconfig, m.content)`);
const CONVERSATION_TEXT = sql.raw(`coalesce(c.title, '') || ' ' || coalesce(c.summary, '')`);
/** What a conversation hit shows: its title and summary, whichever exist. */
const CONVERSATION_SHOWN = sql.raw(`concat_ws(' — ', c.title, c.summary)`);
const CONVERSATION_VECTOR = sql.raw(`to_tsvector('russian'::regconfig, coalesce(c.title, '') || ' ' || coalesce(c.summary, ''))`);

// ts_headline marks matches with two private-use characters; the snippet is then
// HTML-escaped here and the marks become <mark>, the only markup a snippet holds.
const OPEN = "\uE000";
const CLOSE = "\uE001";
const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const toSnippet = (raw: string) => escapeHtml(raw).replaceAll(OPEN, "<mark>").replaceAll(CLOSE, "</mark>");

export class SearchRepository {
  constructor(private readonly db: Db) {}

  /** One page (one row more than `limit`, to tell whether there is another), best first. */
  async page(userId: string, query: SearchQuery, limit: number, after?: SearchPosition): Promise<PositionedHit[]> {
    const user = sql`${userId}::uuid`;
    const tsquery = query.words === undefined ? undefined : sql`websearch_to_tsquery('russian'::regconfig, ${query.words})`;
    const literal = (column: SQL) =>
      query.symbols.map((s) => sql` AND ${column} ILIKE ${`%${escapeLike(s)}%`}`).reduce((a, b) => sql`${a}${b}`, sql``);
    const skip = (column: SQL) =>
      query.excludeConversationId ? sql` AND ${column} <> ${query.excludeConversationId}::uuid` : sql``;
    const position = after
      ? sql`WHERE (h.rank < ${after.rank}::float8
            OR (h.rank = ${after.rank}::float8 AND (h.at < ${after.at}::timestamptz
            OR (h.at = ${after.at}::timestamptz AND (h.kind, h.id) > (${after.kind}, ${after.id}::uuid)))))`
      : sql``;
    const headline = tsquery
      ? (text: SQL) =>
          // A short text is shown whole (emoji and all); a long one as up to two fragments.
          sql`CASE WHEN char_length(${text}) <= 240
            THEN ts_headline('russian'::regconfig, ${text}, ${tsquery}, ${`StartSel=${OPEN}, StopSel=${CLOSE}, HighlightAll=true`})
            ELSE ts_headline('russian'::regconfig, ${text}, ${tsquery}, ${`StartSel=${OPEN}, StopSel=${CLOSE}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "`}) END`
      : (text: SQL) => sql`left(${text}, 200)`;
    // The user's conversations, as an array for `conversation_id = ANY (…)`: the message
    // keys begin with the conversation, and an array the planner cannot see into is
    // estimated as a few conversations, so it reads the user's rows by key instead of
    // scanning the whole GIN posting list of a common word (or every message, for emoji)
    // and filtering on user_id (docs/performance.md has both plans).
    const mine = sql`ARRAY(SELECT c.id FROM conversations c WHERE c.user_id = ${user}${skip(sql`c.id`)})`;
    const hits = tsquery
      ? sql`
        SELECT 'message'::text AS kind, s.message_id AS id, s.conversation_id, s.seq, s.created_at AS at,
               ts_rank_cd(s.document, ${tsquery})::float8 AS rank
        FROM message_search s
        ${query.symbols.length > 0 ? sql`JOIN messages m ON m.id = s.message_id AND m.user_id = ${user}` : sql``}
        WHERE s.conversation_id = ANY (${mine}) AND s.user_id = ${user} AND s.document @@ ${tsquery}${literal(sql`m.content`)}
        UNION ALL
        SELECT 'message'::text, m.id, m.conversation_id, m.seq, m.created_at, ts_rank_cd(${MESSAGE_VECTOR}, ${tsquery})::float8
        FROM conversations c
        JOIN messages m ON m.conversation_id = c.id AND m.seq > c.search_seq
        WHERE c.user_id = ${user} AND c.last_seq > c.search_seq AND m.user_id = ${user} AND m.noise = false
          AND ${MESSAGE_VECTOR} @@ ${tsquery}${literal(sql`m.content`)}${skip(sql`c.id`)}
        UNION ALL
        SELECT 'conversation'::text, c.id, c.id, NULL::int, c.created_at, ts_rank_cd(${CONVERSATION_VECTOR}, ${tsquery})::float8
        FROM conversations c
        WHERE c.user_id = ${user} AND c.closed_at IS NOT NULL
          AND ${CONVERSATION_VECTOR} @@ ${tsquery}${literal(CONVERSATION_TEXT)}${skip(sql`c.id`)}
        UNION ALL
        SELECT 'conversation'::text, c.id, c.id, NULL::int, c.created_at, ts_rank_cd(${CONVERSATION_VECTOR}, ${tsquery})::float8
        FROM conversations c
        WHERE c.user_id = ${user} AND c.closed_at IS NULL
          AND ${CONVERSATION_VECTOR} @@ ${tsquery}${literal(CONVERSATION_TEXT)}${skip(sql`c.id`)}`
      : // Emoji only: no vector to match, indexed or not, so one branch per kind.
        sql`
        SELECT 'message'::text AS kind, m.id, m.conversation_id, m.seq, m.created_at AS at, 0::float8 AS rank
        FROM messages m
        WHERE m.conversation_id = ANY (${mine}) AND m.user_id = ${user} AND m.noise = false${literal(sql`m.content`)}
        UNION ALL
        SELECT 'conversation'::text, c.id, c.id, NULL::int, c.created_at, 0::float8
        FROM conversations c
        WHERE c.user_id = ${user}${literal(CONVERSATION_TEXT)}${skip(sql`c.id`)}`;
    const rows = await queryRows<RawHit>(
      this.db,
      sql`
      WITH hits AS (${hits}
      ), page AS (
        SELECT * FROM hits h ${position}
        ORDER BY h.rank DESC, h.at DESC, h.kind, h.id
        LIMIT ${limit + 1}
      )
      SELECT p.kind, p.id, p.conversation_id, c.title, p.seq, m.role, p.rank, p.at, p.at::text AS at_text,
             CASE WHEN p.kind = 'message' THEN ${headline(sql`m.content`)} ELSE ${headline(CONVERSATION_SHOWN)} END AS snippet
      FROM page p
      JOIN conversations c ON c.user_id = ${user} AND c.id = p.conversation_id
      LEFT JOIN messages m ON p.kind = 'message' AND m.id = p.id AND m.user_id = ${user}
      ORDER BY p.rank DESC, p.at DESC, p.kind, p.id`,
    );
    return rows.map((r) => ({
      position: { rank: Number(r.rank), at: r.at_text, kind: r.kind, id: r.id },
      hit: {
        kind: r.kind,
        conversationId: r.conversation_id,
        conversationTitle: r.title,
        messageId: r.kind === "message" ? r.id : null,
        seq: r.seq === null ? null : Number(r.seq),
        role: r.role,
        rank: Number(r.rank),
        snippet: toSnippet(r.snippet),
        createdAt: r.at instanceof Date ? r.at : new Date(r.at),
      },
    }));
  }

  // ---- the indexer: closed conversations' messages into message_search ----

  /**
   * Locks the next closed conversations with messages not in `message_search` yet,
   * oldest close first: of the first `limit`, those that fit in `budget` pending seqs
   * (always the first), skipping rows another transaction holds. Run in the indexer's
   * transaction: while the locks are held nothing can append to, roll a summary into
   * or delete these conversations, so its next statement sees every message up to
   * their `last_seq`.
   */
  async lockPending(limit: number, budget: number): Promise<{ userId: string; id: string }[]> {
    const rows = await queryRows<{ user_id: string; id: string }>(
      this.db,
      sql`SELECT c.user_id, c.id FROM conversations c
          JOIN (
            SELECT user_id, id, coalesce(sum(last_seq - search_seq) OVER (ORDER BY closed_at, id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM (SELECT user_id, id, closed_at, last_seq, search_seq FROM conversations
                  WHERE closed_at IS NOT NULL AND last_seq > search_seq
                  ORDER BY closed_at LIMIT ${limit}) first
          ) k ON c.user_id = k.user_id AND c.id = k.id AND k.before < ${budget}
          WHERE c.closed_at IS NOT NULL AND c.last_seq > c.search_seq
          FOR UPDATE OF c SKIP LOCKED`,
    );
    return rows.map((r) => ({ userId: r.user_id, id: r.id }));
  }

  /**
   * Copies the messages after `search_seq` of the given (locked) conversations into
   * `message_search`, noise left out, and moves each `search_seq` to what was copied —
   * one statement. At most `budget` seqs in all, in the order the conversations
   * closed: a conversation beyond the budget is indexed in part and stays due. Answers
   * the rows written and the conversations now fully indexed.
   */
  async indexLocked(
    keys: { userId: string; id: string }[],
    budget: number,
  ): Promise<{ messages: number; conversations: number }> {
    if (keys.length === 0) return { messages: 0, conversations: 0 };
    const rows = await queryRows<{ messages: number; conversations: number }>(
      this.db,
      sql`
      WITH due AS MATERIALIZED (
        SELECT c.user_id, c.id, c.search_seq, c.last_seq,
               coalesce(sum(c.last_seq - c.search_seq) OVER (ORDER BY c.closed_at, c.id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM conversations c
        -- Arrays of known length, so the planner reads these rows by key.
        WHERE c.id = ANY (${uuidArray(keys.map((k) => k.id))}) AND c.user_id = ANY (${uuidArray(keys.map((k) => k.userId))})
          AND c.last_seq > c.search_seq
      ), p AS MATERIALIZED (
        SELECT user_id, id, search_seq, least(last_seq, search_seq + (${budget} - before)) AS upto, last_seq
        FROM due WHERE before < ${budget}
      ), ins AS (
        INSERT INTO message_search (user_id, conversation_id, seq, message_id, created_at, document)
        SELECT m.user_id, m.conversation_id, m.seq, m.id, m.created_at, ${MESSAGE_VECTOR}
        FROM p
        JOIN messages m ON m.conversation_id = p.id AND m.seq > p.search_seq AND m.seq <= p.upto
        WHERE m.user_id = p.user_id AND m.noise = false
        -- Rows are written only above search_seq, under the row lock: a conflict means
        -- a row is already there, and it is the same message.
        ON CONFLICT (conversation_id, seq) DO NOTHING
        RETURNING 1
      ), moved AS (
        UPDATE conversations t SET search_seq = p.upto
        FROM p WHERE t.user_id = p.user_id AND t.id = p.id
        RETURNING p.upto = p.last_seq AS complete
      )
      SELECT (SELECT count(*) FROM ins)::int AS messages,
             (SELECT count(*) FROM moved WHERE complete)::int AS conversations`,
    );
    return { messages: Number(rows[0]?.messages ?? 0), conversations: Number(rows[0]?.conversations ?? 0) };
  }
}

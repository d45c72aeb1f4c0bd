/**
 * The search SQL. Messages and conversations (title + summary) are matched with the
 * `russian` text-search configuration — Cyrillic words through the Russian Snowball
 * stemmer, ASCII words through the English one — against the GIN expression indexes
 * `messages_search_idx` and `conversations_search_idx` (the expressions here must stay
 * identical to the indexed ones). Emoji are not words to PostgreSQL's parser, so they
 * are matched literally. Every branch filters on the user's id first.
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
    const tsquery = query.words === undefined ? undefined : sql`websearch_to_tsquery('russian'::regconfig, ${query.words})`;
    const literal = (column: SQL) =>
      query.symbols.map((s) => sql` AND ${column} ILIKE ${`%${escapeLike(s)}%`}`).reduce((a, b) => sql`${a}${b}`, sql``);
    const messageMatch = tsquery ? sql`${MESSAGE_VECTOR} @@ ${tsquery}` : sql`true`;
    const conversationMatch = tsquery ? sql`${CONVERSATION_VECTOR} @@ ${tsquery}` : sql`true`;
    const messageRank = tsquery ? sql`ts_rank_cd(${MESSAGE_VECTOR}, ${tsquery})::float8` : sql`0::float8`;
    const conversationRank = tsquery ? sql`ts_rank_cd(${CONVERSATION_VECTOR}, ${tsquery})::float8` : sql`0::float8`;
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
    const rows = await queryRows<RawHit>(
      this.db,
      sql`
      WITH hits AS (
        SELECT 'message'::text AS kind, m.id, m.conversation_id, m.seq, m.role, m.created_at AS at,
               ${messageRank} AS rank
        FROM messages m
        WHERE m.user_id = ${userId}::uuid AND m.noise = false AND ${messageMatch}${literal(sql`m.content`)}${skip(sql`m.conversation_id`)}
        UNION ALL
        SELECT 'conversation'::text, c.id, c.id, NULL::int, NULL::text, c.created_at, ${conversationRank}
        FROM conversations c
        WHERE c.user_id = ${userId}::uuid AND ${conversationMatch}${literal(CONVERSATION_TEXT)}${skip(sql`c.id`)}
          ${query.symbols.length > 0 || tsquery ? sql`` : sql`AND false`}
      ), page AS (
        SELECT * FROM hits h ${position}
        ORDER BY h.rank DESC, h.at DESC, h.kind, h.id
        LIMIT ${limit + 1}
      )
      SELECT p.kind, p.id, p.conversation_id, c.title, p.seq, p.role, p.rank, p.at, p.at::text AS at_text,
             CASE WHEN p.kind = 'message' THEN ${headline(sql`m.content`)} ELSE ${headline(CONVERSATION_SHOWN)} END AS snippet
      FROM page p
      JOIN conversations c ON c.user_id = ${userId}::uuid AND c.id = p.conversation_id
      LEFT JOIN messages m ON p.kind = 'message' AND m.user_id = ${userId}::uuid AND m.id = p.id
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
}

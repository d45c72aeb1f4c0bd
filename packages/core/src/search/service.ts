/**
 * The search use case: checks the query, pages by an opaque cursor bound to the user
 * and query. And the indexer that fills `message_search` off the append path.
 */
import { createHash } from "node:crypto";
import type { HistoryHit } from "../context/types.js";
import { BadRequestError, ValidationError } from "../errors.js";
import type { Store } from "../store.js";
import { assertText, assertUuid, intInRange } from "../validation.js";
import type { SearchQuery } from "./repository.js";
import type { SearchHitKind, SearchIndexOptions, SearchIndexResult, SearchOptions, SearchPage, SearchPosition } from "./types.js";

/** Longest query accepted, in characters. */
export const MAX_SEARCH_QUERY = 500;

const PICTOGRAPH = /\p{Extended_Pictographic}(?:\uFE0F|\u200D\p{Extended_Pictographic})*/gu;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Splits a query into its words (for the text-search parser) and its emoji (matched literally).
 *
 * @example
 * parseSearchQuery("кот 🐱"); // { words: "кот", symbols: ["🐱"] }
 */
export function parseSearchQuery(q: string): SearchQuery {
  const symbols = [...new Set(q.match(PICTOGRAPH) ?? [])];
  const words = q.replace(PICTOGRAPH, " ").trim();
  return { words: WORD_CHAR.test(words) ? words : undefined, symbols };
}

const listKey = (scope: string) => createHash("sha256").update(scope).digest("base64url").slice(0, 12);

function encode(scope: string, p: SearchPosition): string {
  return Buffer.from(JSON.stringify({ l: listKey(scope), r: p.rank, t: p.at, k: p.kind, i: p.id })).toString("base64url");
}

function decode(scope: string, cursor: string): SearchPosition {
  const invalid = (why: string) => new BadRequestError(`cursor is not valid: ${why}`, "INVALID_CURSOR", { field: "cursor" });
  let parsed: Record<string, unknown>;
  try {
    if (!/^[A-Za-z0-9_-]{1,600}$/.test(cursor)) throw new Error("not base64url");
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch (error) {
    throw Object.assign(invalid("it is not a cursor this API issued"), { cause: error });
  }
  const { l, r, t, k, i } = parsed ?? {};
  const kinds: SearchHitKind[] = ["message", "conversation"];
  if (
    typeof r !== "number" ||
    !Number.isFinite(r) ||
    typeof t !== "string" ||
    Number.isNaN(Date.parse(t.replace(" ", "T").replace(/\+00$/, "Z"))) ||
    !kinds.includes(k as SearchHitKind) ||
    typeof i !== "string" ||
    !/^[0-9a-f-]{36}$/.test(i)
  ) {
    throw invalid("it is not a cursor this API issued");
  }
  if (l !== listKey(scope)) throw invalid("it belongs to another search (other user or query)");
  return { rank: r, at: t, kind: k as SearchHitKind, id: i };
}

/**
 * A snippet as plain text: the `<mark>` tags removed and the HTML escapes undone.
 *
 * @example
 * snippetText("<mark>кот</mark> &amp; пёс"); // "кот & пёс"
 */
export function snippetText(snippet: string): string {
  return snippet
    .replace(/<\/?mark>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The indexer's batch sizes, checked, with `fallback` for what is not given. */
function indexingOptions(options: SearchIndexOptions, fallback: Required<SearchIndexOptions>): Required<SearchIndexOptions> {
  return {
    conversationsPerBatch: intInRange(
      "conversationsPerBatch",
      options.conversationsPerBatch,
      1,
      100_000,
      fallback.conversationsPerBatch,
    ),
    messagesPerBatch: intInRange("messagesPerBatch", options.messagesPerBatch, 1, 1_000_000, fallback.messagesPerBatch),
    maxBatches: intInRange("maxBatches", options.maxBatches, 1, 100_000, fallback.maxBatches),
  };
}

export class SearchService {
  readonly #indexing: Required<SearchIndexOptions>;

  constructor(
    private readonly store: Store,
    indexing: SearchIndexOptions = {},
  ) {
    this.#indexing = indexingOptions(indexing, { conversationsPerBatch: 500, messagesPerBatch: 5_000, maxBatches: 200 });
  }

  /**
   * Moves the messages of closed conversations into the search index
   * (`message_search`), oldest close first, in bounded batches: each batch is one
   * transaction that locks its conversations (skipping busy ones), copies their
   * messages after `search_seq` and moves `search_seq`. Search is right before, during
   * and after — what is not indexed yet is matched on the fly, only slower. The sweep
   * (`convo.sweeps.runAll`) calls it; a host that runs no sweeps can call it itself.
   *
   * @example
   * const { messages, conversations } = await convo.search.indexPending();
   */
  async indexPending(options: SearchIndexOptions = {}): Promise<SearchIndexResult> {
    const { conversationsPerBatch, messagesPerBatch, maxBatches } = indexingOptions(options, this.#indexing);
    const result: SearchIndexResult = { messages: 0, conversations: 0 };
    for (let i = 0; i < maxBatches; i++) {
      const done = await this.store.transaction(async (uow) => {
        const keys = await uow.search.lockPending(conversationsPerBatch, messagesPerBatch);
        return keys.length === 0 ? undefined : uow.search.indexLocked(keys, messagesPerBatch);
      });
      // Nothing due, or everything due is locked by someone else: the next pass retries.
      if (!done) break;
      result.messages += done.messages;
      result.conversations += done.conversations;
    }
    return result;
  }

  /**
   * Searches the user's own messages, conversation titles and summaries: Russian and
   * English words match their other forms (кот finds кота and котом; run finds
   * running), emoji match literally, best match first, with highlighted snippets.
   * Never sees another user's rows. Noise messages (and rolling summaries) are left out.
   *
   * @example
   * const page = await convo.search.query(userId, { q: "кот 🐱", limit: 10 });
   * const next = page.nextCursor ? await convo.search.query(userId, { q: "кот 🐱", cursor: page.nextCursor }) : undefined;
   */
  async query(userId: string, options: SearchOptions): Promise<SearchPage> {
    const uid = assertUuid("userId", userId);
    const q = assertText("q", options.q, { max: MAX_SEARCH_QUERY }).trim();
    const limit = intInRange("limit", options.limit, 1, 100, 20);
    const excludeConversationId =
      options.excludeConversationId === undefined
        ? undefined
        : assertUuid("excludeConversationId", options.excludeConversationId);
    const parsed = { ...parseSearchQuery(q), excludeConversationId };
    if (parsed.words === undefined && parsed.symbols.length === 0) {
      throw new ValidationError("q must contain a word or an emoji", { field: "q" });
    }
    const scope = `search:${uid}:${q}:${excludeConversationId ?? ""}`;
    const after = options.cursor === undefined ? undefined : decode(scope, options.cursor);
    return this.store.read(async (uow) => {
      const rows = await uow.search.page(uid, parsed, limit, after);
      const page = rows.slice(0, limit);
      const hasMore = rows.length > limit;
      const last = page[page.length - 1];
      return {
        items: page.map((r) => r.hit),
        hasMore,
        nextCursor: hasMore && last ? encode(scope, last.position) : null,
      };
    });
  }

  /**
   * The `search_history` tool's search: the best `limit` hits outside one conversation,
   * as plain text (snippet without marks).
   *
   * @example
   * const hits = await convo.search.history(userId, "кот", { limit: 5, excludeConversationId: current });
   */
  async history(
    userId: string,
    query: string,
    options: { limit: number; excludeConversationId?: string },
  ): Promise<HistoryHit[]> {
    const page = await this.query(userId, {
      q: query,
      limit: options.limit,
      excludeConversationId: options.excludeConversationId,
    });
    return page.items.map((h) => ({
      kind: h.kind,
      conversationId: h.conversationId,
      conversationTitle: h.conversationTitle,
      seq: h.seq,
      role: h.role,
      content: snippetText(h.snippet),
      createdAt: h.createdAt,
    }));
  }
}

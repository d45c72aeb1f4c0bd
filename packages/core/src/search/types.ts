/** Full-text search over a user's own messages, conversation titles and summaries. */

/** What a hit is: a message, or a conversation whose title or summary matched. */
export type SearchHitKind = "message" | "conversation";

export interface SearchHit {
  kind: SearchHitKind;
  conversationId: string;
  conversationTitle: string | null;
  /** The message's id and seq (absent for a conversation hit). */
  messageId: string | null;
  seq: number | null;
  role: string | null;
  /** Relevance (`ts_rank_cd`, higher is better); 0 for an emoji-only query. */
  rank: number;
  /**
   * The matching text around the hit, HTML-escaped, with the matched words wrapped in
   * `<mark>…</mark>` (`ts_headline`): safe to insert as HTML.
   */
  snippet: string;
  createdAt: Date;
}

export interface SearchOptions {
  /** The query: words (stemmed, Russian and English), "quoted phrases", -exclusions, emoji. */
  q: string;
  /** Hits per page (default 20, at most 100). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
  /** Leave this conversation out (the `search_history` tool skips the current one). */
  excludeConversationId?: string;
}

export interface SearchPage {
  items: SearchHit[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** A position in a result list: the last hit's sort key. */
export interface SearchPosition {
  rank: number;
  at: string;
  kind: SearchHitKind;
  id: string;
}

/** What one pass of the search indexer did (`convo.search.indexPending`). */
export interface SearchIndexResult {
  /** Messages written to the search index. */
  messages: number;
  /** Conversations whose messages are now all in the index. */
  conversations: number;
}

/** How much one pass of the search indexer does. */
export interface SearchIndexOptions {
  /** Closed conversations considered per batch (default 500). */
  conversationsPerBatch?: number;
  /** Message seqs indexed per batch, at most; one statement writes them (default 5,000). */
  messagesPerBatch?: number;
  /** Batches per pass (default 200), so one pass is bounded in time. */
  maxBatches?: number;
}

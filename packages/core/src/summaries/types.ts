/** Conversation summaries: written when a conversation closes, and rolling summaries for a token budget. */

/** What a summarizer is given: the earlier summary (if any) and the turns it has not seen. */
export interface SummaryInput {
  /** The summary so far; the new one extends it (incremental, never from scratch). */
  previous: string | null;
  /** The new turns, oldest first (noise left out). */
  messages: { role: string; content: string }[];
  /** The conversation's title, if any. */
  title?: string | null;
}

/** Turns turns into at most `MAX_SUMMARY_LENGTH` characters of text. */
export type Summarizer = (input: SummaryInput) => Promise<string>;

/** Longest summary stored, in code points. */
export const MAX_SUMMARY_LENGTH = 500;

export interface SummariesOptions {
  /**
   * The model that writes summaries (`provider:model`), default `CONVO_SUMMARY_MODEL`,
   * else the runs' default model. `offline` (the default without a provider) writes an
   * extractive summary: the user's goal and the key lines.
   */
  model?: string;
  /** Your own summarizer instead of a model (tests, other languages, other styles). */
  summarizer?: Summarizer;
}

/** What one pass over the pending summaries did. */
export interface SummarizeResult {
  written: number;
  /** Attempts that failed; each is kept as `summaryWarning` and retried later with backoff. */
  failed: number;
}

/** A rolling summary: a stored message standing in for the turns `fromSeq..toSeq`. */
export interface RollingSummary {
  messageId: string;
  seq: number;
  fromSeq: number;
  toSeq: number;
  content: string;
}

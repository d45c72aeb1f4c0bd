/** The shapes of the context a model is handed before it answers. */
import type { Conversation, ConversationStatus } from "../conversations/index.js";
import type { ContextBudgetReceipt } from "./budget.js";

/** A message as the model sees it. */
export interface ContextMessage {
  id?: string;
  seq?: number;
  role: string;
  content: string;
  parts?: unknown[] | null;
  clientMessageId?: string | null;
  createdAt?: Date;
}

export interface SessionHistoryItem {
  id: string;
  title: string | null;
  status: ConversationStatus;
  startedAt: Date;
  endedAt: Date;
  messageCount: number;
  summary: string | null;
}

export interface LoadContextOptions {
  /** The current conversation; default: the user's active one, if any. */
  conversationId?: string;
  /** Last N messages of the current conversation (default 20, at most 200). */
  historyLimit?: number;
  /** Previous conversations to describe (default 3, at most 20). */
  sessionsLimit?: number;
  /** Messages the client already holds; merged in without duplicates. */
  history?: ContextMessage[];
  env?: string;
  /**
   * Fit the profile, the rolling summary, the newest messages and the previous
   * conversations into this many tokens, and answer a receipt (`budget`). With a budget
   * `historyLimit` defaults to 200 and the budget decides. See docs/memory.md.
   */
  tokenBudget?: number;
  /** The model the context is for: OpenAI models are counted exactly, others estimated. */
  model?: string;
  /**
   * With a budget: when older turns no longer fit, extend the conversation's rolling
   * summary to stand in for them (default true). The messages themselves stay.
   */
  rollSummary?: boolean;
}

/** The rolling summary in a context: it stands in for turns `fromSeq..toSeq`. */
export interface ContextRollingSummary {
  content: string;
  fromSeq: number;
  toSeq: number;
}

export interface Context {
  conversation: Conversation | null;
  conversationHistory: ContextMessage[];
  sessionHistory: SessionHistoryItem[];
  userProfile: Record<string, unknown>;
  /** With a token budget: the rolling summary standing in for older turns, if one is included. */
  rollingSummary?: ContextRollingSummary | null;
  /** With a token budget: what went in, what was left out, and the tokens of each part. */
  budget?: ContextBudgetReceipt;
}

/** A hit of the `search_history` tool: a message, or a conversation by its title or summary. */
export interface HistoryHit {
  /** Absent from the literal search (always messages). */
  kind?: "message" | "conversation";
  conversationId: string;
  conversationTitle: string | null;
  /** Null for a conversation hit. */
  seq: number | null;
  /** Null for a conversation hit. */
  role: string | null;
  content: string;
  createdAt: Date;
}

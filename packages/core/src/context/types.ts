/** The shapes of the context a model is handed before it answers. */
import type { Conversation, ConversationStatus } from "../conversations/index.js";

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
}

export interface Context {
  conversation: Conversation | null;
  conversationHistory: ContextMessage[];
  sessionHistory: SessionHistoryItem[];
  userProfile: Record<string, unknown>;
}

export interface HistoryHit {
  conversationId: string;
  conversationTitle: string | null;
  seq: number;
  role: string;
  content: string;
  createdAt: Date;
}

/** The shape of a conversation's state document. */

export interface StateRow {
  doc: Record<string, unknown>;
  version: number;
  updatedAt: Date | null;
}

export interface ConversationState {
  conversationId: string;
  /** 0 while the conversation has no document (it reads as `{}`). */
  version: number;
  doc: Record<string, unknown>;
  updatedAt: Date | null;
}

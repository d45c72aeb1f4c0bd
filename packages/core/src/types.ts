/** The public shapes of Convo's records, as the library answers them. */
import type { CloseReason, ConversationRow, TitleSource } from "./conversations/repository.js";
import type { MessageRow, Role } from "./messages/repository.js";
import type { UserRow } from "./users/repository.js";

export type { CloseReason, StatusFilter, TitleSource } from "./conversations/repository.js";
export type { Role } from "./messages/repository.js";

export interface User {
  id: string;
  externalId: string | null;
  displayName: string | null;
  profile: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** `active`: open with recent activity; `inactive`: open but idle past the threshold (the sweep will close it); `closed`. */
export type ConversationStatus = "active" | "inactive" | "closed";

export interface Conversation {
  id: string;
  userId: string;
  externalId: string | null;
  title: string | null;
  titleSource: TitleSource | null;
  env: string;
  status: ConversationStatus;
  isActive: boolean;
  messageCount: number;
  summary: string | null;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  closeReason: CloseReason | null;
}

export interface Message {
  id: string;
  conversationId: string;
  userId: string;
  seq: number;
  role: Role;
  content: string;
  parts: unknown[] | null;
  noise: boolean;
  clientMessageId: string | null;
  runId: string | null;
  createdAt: Date;
}

export interface Page<T> {
  items: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    externalId: row.externalId,
    displayName: row.displayName,
    profile: row.profile,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function toConversation(row: ConversationRow, activeSince: Date): Conversation {
  const status: ConversationStatus = row.closedAt ? "closed" : row.updatedAt > activeSince ? "active" : "inactive";
  return {
    id: row.id,
    userId: row.userId,
    externalId: row.externalId,
    title: row.title,
    titleSource: row.titleSource as TitleSource | null,
    env: row.env,
    status,
    isActive: status === "active",
    messageCount: row.messageCount,
    summary: row.summary,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    closedAt: row.closedAt,
    closeReason: row.closeReason as CloseReason | null,
  };
}

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversationId,
    userId: row.userId,
    seq: row.seq,
    role: row.role as Role,
    content: row.content,
    parts: row.parts,
    noise: row.noise,
    clientMessageId: row.clientMessageId,
    runId: row.runId,
    createdAt: row.createdAt,
  };
}

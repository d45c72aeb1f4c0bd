/**
 * The context loader (DESIGN.md §1.4): what an assistant needs before it answers —
 * the current conversation's recent messages, the user's previous conversations and
 * the user's profile — read in one transaction.
 */
import type { LifecycleConfig } from "../config.js";
import { NotFoundError, ValidationError } from "../errors.js";
import type { Store } from "../store.js";
import { type Conversation, type ConversationStatus, toConversation } from "../types.js";
import { assertText, assertUuid, intInRange } from "../validation.js";

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

const sameMessage = (a: ContextMessage, b: ContextMessage) =>
  (a.id !== undefined && a.id === b.id) ||
  (a.clientMessageId != null && a.clientMessageId === b.clientMessageId) ||
  (a.role === b.role && a.content === b.content);

/**
 * Stored history first, then the client's messages that are not stored (matched by
 * id, clientMessageId, or role and text), keeping the last `limit`.
 */
export function mergeHistory(stored: ContextMessage[], given: ContextMessage[], limit: number): ContextMessage[] {
  const extra = given.filter((g) => !stored.some((s) => sameMessage(s, g)));
  return [...stored, ...extra].slice(-limit);
}

function checkHistory(history: unknown): ContextMessage[] {
  if (history === undefined) return [];
  if (!Array.isArray(history)) throw new ValidationError("history must be an array", { field: "history" });
  if (history.length > 500) throw new ValidationError("history holds more than 500 messages", { field: "history" });
  return history.map((item, i) => {
    const field = `history[${i}]`;
    if (item === null || typeof item !== "object") throw new ValidationError(`${field} must be an object`, { field });
    const { role, content, id, clientMessageId } = item as Record<string, unknown>;
    assertText(`${field}.role`, role, { max: 20 });
    assertText(`${field}.content`, content, { allowEmpty: true });
    return {
      role: role as string,
      content: content as string,
      ...(typeof id === "string" ? { id } : {}),
      ...(typeof clientMessageId === "string" ? { clientMessageId } : {}),
    };
  });
}

export class ContextService {
  constructor(
    private readonly store: Store,
    private readonly lifecycle: LifecycleConfig,
  ) {}

  async load(userId: string, options: LoadContextOptions = {}): Promise<Context> {
    const uid = assertUuid("userId", userId);
    const conversationId =
      options.conversationId === undefined ? undefined : assertUuid("conversationId", options.conversationId);
    const historyLimit = intInRange("historyLimit", options.historyLimit, 0, 200, 20);
    const sessionsLimit = intInRange("sessionsLimit", options.sessionsLimit, 0, 20, 3);
    const given = checkHistory(options.history);
    return this.store.read(async (uow) => {
      const activeSince = new Date(uow.now.getTime() - this.lifecycle.inactivityMs);
      const user = await uow.users.find(uid);
      if (!user) throw new NotFoundError("user", uid);
      let current = conversationId ? await uow.conversations.find(uid, conversationId) : undefined;
      if (conversationId && !current) throw new NotFoundError("conversation", conversationId);
      if (!conversationId) current = await uow.conversations.findActive(uid, options.env, activeSince);
      const stored: ContextMessage[] = current
        ? (await uow.messages.last(uid, current.id, historyLimit, { withoutNoise: true })).map((m) => ({
            id: m.id,
            seq: m.seq,
            role: m.role,
            content: m.content,
            parts: m.parts,
            clientMessageId: m.clientMessageId,
            createdAt: m.createdAt,
          }))
        : [];
      const previous = sessionsLimit === 0 ? [] : await uow.conversations.recent(uid, sessionsLimit, current?.id);
      return {
        conversation: current ? toConversation(current, activeSince) : null,
        conversationHistory: mergeHistory(stored, given, historyLimit),
        sessionHistory: previous.map((row) => {
          const c = toConversation(row, activeSince);
          return {
            id: c.id,
            title: c.title,
            status: c.status,
            startedAt: c.createdAt,
            endedAt: c.closedAt ?? c.updatedAt,
            messageCount: c.messageCount,
            summary: c.summary,
          };
        }),
        userProfile: user.profile,
      };
    });
  }
}

/**
 * The context loader (DESIGN.md §1.4): what an assistant needs before it answers —
 * the current conversation's recent messages, the user's previous conversations and
 * the user's profile — read in one transaction.
 */
import { LIMITS } from "@convo/protocol";
import type { LifecycleConfig } from "../config.js";
import { toConversation } from "../conversations/index.js";
import { NotFoundError, ValidationError } from "../errors.js";
import type { Store } from "../store.js";
import { assertText, assertUuid, intInRange } from "../validation.js";
import type { Context, ContextMessage, HistoryHit, LoadContextOptions } from "./types.js";

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

/**
 * The context loader (`convo.context`): everything a model needs before it answers,
 * in one call — call it right before building the prompt.
 *
 * @example
 * const context = await convo.context.load(userId, { historyLimit: 30, sessionsLimit: 3 });
 * const prompt = [...context.conversationHistory.map(({ role, content }) => ({ role, content })), { role: "user", content: text }];
 */
export class ContextService {
  constructor(
    private readonly store: Store,
    private readonly lifecycle: LifecycleConfig,
  ) {}

  /**
   * The current (or the given) conversation's recent messages, the user's previous
   * conversations and profile; NotFoundError for an unknown user or conversation.
   */
  async load(userId: string, options: LoadContextOptions = {}): Promise<Context> {
    const uid = assertUuid("userId", userId);
    const conversationId =
      options.conversationId === undefined ? undefined : assertUuid("conversationId", options.conversationId);
    const historyLimit = intInRange("historyLimit", options.historyLimit, 0, LIMITS.historyLimit, 20);
    const sessionsLimit = intInRange("sessionsLimit", options.sessionsLimit, 0, LIMITS.sessionsLimit, 3);
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

  /**
   * The user's own earlier messages containing `query` (case-insensitive, literal),
   * newest first, noise left out; `excludeConversationId` leaves one conversation out.
   *
   * @example
   * const hits = await convo.context.searchHistory(userId, "кот", { limit: 5 });
   */
  async searchHistory(
    userId: string,
    query: string,
    options: { limit?: number; excludeConversationId?: string } = {},
  ): Promise<HistoryHit[]> {
    const uid = assertUuid("userId", userId);
    const text = assertText("query", query, { max: 200 });
    const limit = intInRange("limit", options.limit, 1, 100, 5);
    const exclude =
      options.excludeConversationId === undefined
        ? undefined
        : assertUuid("excludeConversationId", options.excludeConversationId);
    return this.store.read((uow) => uow.history.search(uid, text, limit, exclude));
  }
}

/**
 * The context loader (DESIGN.md §1.4): what an assistant needs before it answers —
 * the current conversation's recent messages, the user's previous conversations and
 * the user's profile — read in one transaction.
 */
import { LIMITS } from "@convo/protocol";
import type { LifecycleConfig } from "../config.js";
import { type ConversationFields, toConversation } from "../conversations/index.js";
import { NotFoundError, ValidationError } from "../errors.js";
import type { Store } from "../store.js";
import type { RollingSummary } from "../summaries/types.js";
import { assertText, assertUuid, intInRange } from "../validation.js";
import { type BudgetCandidate, fitToBudget } from "./budget.js";
import type { RunState } from "./snapshot-repository.js";
import { tokenCounter } from "./tokens.js";
import type { Context, ContextMessage, HistoryHit, LoadContextOptions, SessionHistoryItem } from "./types.js";

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * How a previous conversation is shown to the model (and counted against a budget).
 *
 * @example
 * sessionLine(context.sessionHistory[0]); // "- «Стикер с котом», 2026-11-20–2026-11-20, 6 messages, closed: Goal: …"
 */
export function sessionLine(s: SessionHistoryItem): string {
  const title = s.title ? `«${s.title}»` : "(untitled)";
  const summary = s.summary ? `: ${s.summary}` : "";
  return `- ${title}, ${day(s.startedAt)}–${day(s.endedAt)}, ${s.messageCount} messages, ${s.status}${summary}`;
}

/**
 * The profile as the model sees it (and as a budget counts it); undefined when empty.
 *
 * @example
 * profileText({ name: "Аня" }); // '{"name":"Аня"}'
 */
export function profileText(profile: Record<string, unknown>): string | undefined {
  return Object.keys(profile).length > 0 ? JSON.stringify(profile) : undefined;
}

/** A rolling summary's room is reserved at this many tokens when deciding how far to roll. */
const ROLLING_SUMMARY_RESERVE = 300;

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
    /** Rolling summaries for budgeted loads (absent: a budget only drops what does not fit). */
    private readonly summaries?: {
      latestRolling(userId: string, conversationId: string): Promise<RollingSummary | undefined>;
      roll(userId: string, conversationId: string, toSeq: number): Promise<RollingSummary | undefined>;
    },
  ) {}

  /**
   * The current (or the given) conversation's recent messages, the user's previous
   * conversations and profile; NotFoundError for an unknown user or conversation.
   * With `tokenBudget`, the parts are fitted into the budget and a receipt says what
   * went in (docs/memory.md).
   *
   * @example
   * const context = await convo.context.load(userId, { tokenBudget: 4000, model: "openai:gpt-4o-mini" });
   * console.log(context.budget?.used, context.budget?.omitted.messages);
   */
  async load(userId: string, options: LoadContextOptions = {}): Promise<Context> {
    return (await this.loadForRun(userId, options)).context;
  }

  /**
   * `load`, plus the state of run `runId` read in the same statement (a run reads its
   * context and checks it was not cancelled meanwhile in one round trip). `run` is
   * undefined without `runId`, without `conversationId`, or when the run is not the user's.
   *
   * @internal
   * @example
   * const { context, run } = await convo.context.loadForRun(userId, { conversationId }, runId);
   * if (run?.cancelRequested) return;
   */
  async loadForRun(
    userId: string,
    options: LoadContextOptions = {},
    runId?: string,
  ): Promise<{ context: Context; run: RunState | undefined }> {
    const budget =
      options.tokenBudget === undefined ? undefined : intInRange("tokenBudget", options.tokenBudget, 1, 10_000_000, 0);
    const model = options.model === undefined ? undefined : assertText("model", options.model, { max: 200 });
    const { context, run } = await this.#load(
      userId,
      { ...options, historyLimit: options.historyLimit ?? (budget ? 200 : 20) },
      runId,
    );
    if (budget === undefined) return { context, run };
    return { context: await this.#fit(context, budget, model, options), run };
  }

  async #fit(base: Context, budget: number, model: string | undefined, options: LoadContextOptions): Promise<Context> {
    const counter = await tokenCounter(model);
    const conversation = base.conversation;
    const historyLimit = options.historyLimit ?? 200;
    let rolling =
      conversation && this.summaries ? await this.summaries.latestRolling(conversation.userId, conversation.id) : undefined;
    const fit = () => {
      const covered = rolling?.toSeq ?? 0;
      const messages: BudgetCandidate<ContextMessage>[] = base.conversationHistory
        .filter((m) => m.seq === undefined || m.seq > covered)
        .map((m) => ({ item: m, text: m.content, id: m.id, seq: m.seq }));
      return {
        messages,
        result: fitToBudget({
          budget,
          counter,
          profile: profileText(base.userProfile),
          rollingSummary: rolling ? { item: rolling, text: rolling.content, id: rolling.messageId, seq: rolling.seq } : undefined,
          messages,
          sessions: base.sessionHistory.map((s) => ({ item: s, text: sessionLine(s), id: s.id })),
        }),
      };
    };
    let { messages, result } = fit();
    let rolled = false;
    if (conversation && this.summaries && options.rollSummary !== false) {
      const covered = rolling?.toSeq ?? 0;
      const stored = messages.filter((m) => m.seq !== undefined);
      const droppedByBudget = result.receipt.parts.some((p) => p.kind === "message" && !p.included && p.seq !== undefined);
      const olderNotLoaded =
        base.conversationHistory.filter((m) => m.seq !== undefined).length >= historyLimit && (stored[0]?.seq ?? 0) > covered + 1;
      if (droppedByBudget || olderNotLoaded) {
        // Roll far enough that the kept turns fill at most half of the room left for
        // messages: the next turns then fit for a while before the summary rolls again.
        const profileTokens = result.receipt.parts.find((p) => p.kind === "profile" && p.included)?.tokens ?? 0;
        const reserve = Math.min(ROLLING_SUMMARY_RESERVE, Math.floor(budget / 4));
        const room = Math.max(0, budget - profileTokens - reserve) / 2;
        let sum = 0;
        let toSeq = (stored[0]?.seq ?? covered + 1) - 1;
        for (let i = messages.length - 1; i >= 0; i--) {
          const m = messages[i] as BudgetCandidate<ContextMessage>;
          sum += result.messageTokens[i] as number;
          if (sum > room && m.seq !== undefined) {
            toSeq = m.seq;
            break;
          }
        }
        // The newest turn is never rolled away: it is what the model answers.
        const newest = stored[stored.length - 1]?.seq;
        if (newest !== undefined) toSeq = Math.min(toSeq, newest - 1);
        if (toSeq > covered) {
          const next = await this.summaries.roll(conversation.userId, conversation.id, toSeq);
          if (next && next.toSeq > covered) {
            rolling = next;
            rolled = true;
            ({ messages, result } = fit());
          }
        }
      }
    }
    return {
      ...base,
      conversationHistory: result.messages,
      sessionHistory: result.sessions,
      userProfile: result.profile ? base.userProfile : {},
      rollingSummary:
        result.rollingSummary && rolling ? { content: rolling.content, fromSeq: rolling.fromSeq, toSeq: rolling.toSeq } : null,
      budget: { ...result.receipt, rolled },
    };
  }

  async #load(
    userId: string,
    options: LoadContextOptions,
    runId?: string,
  ): Promise<{ context: Context; run: RunState | undefined }> {
    const uid = assertUuid("userId", userId);
    const conversationId =
      options.conversationId === undefined ? undefined : assertUuid("conversationId", options.conversationId);
    const rid = runId === undefined ? null : assertUuid("runId", runId);
    const historyLimit = intInRange("historyLimit", options.historyLimit, 0, LIMITS.historyLimit, 20);
    const sessionsLimit = intInRange("sessionsLimit", options.sessionsLimit, 0, LIMITS.sessionsLimit, 3);
    const given = checkHistory(options.history);
    return this.store.read(async (uow) => {
      const activeSince = new Date(uow.now.getTime() - this.lifecycle.inactivityMs);
      const build = (
        current: ConversationFields | undefined,
        stored: ContextMessage[],
        previous: ConversationFields[],
        profile: Record<string, unknown>,
      ): Context => ({
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
        userProfile: profile,
      });
      if (conversationId) {
        // The common case (every run): one statement.
        const snapshot = await uow.contextSnapshot.read(uid, conversationId, historyLimit, sessionsLimit, rid);
        if (!snapshot) throw new NotFoundError("user", uid);
        if (!snapshot.conversation) throw new NotFoundError("conversation", conversationId);
        return {
          context: build(snapshot.conversation, snapshot.messages, snapshot.previous, snapshot.profile),
          run: snapshot.run,
        };
      }
      const user = await uow.users.find(uid);
      if (!user) throw new NotFoundError("user", uid);
      const current = await uow.conversations.findActive(uid, options.env, activeSince);
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
      return { context: build(current, stored, previous, user.profile), run: undefined };
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

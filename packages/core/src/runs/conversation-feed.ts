/**
 * Following a conversation (a second device seeing the same chat live): its new
 * messages and the events of its runs, woken by notices, read from the database.
 *
 * Every stored message is announced by the messages service once its unit of work
 * has committed (`publishMessage`), for library and HTTP callers alike. The notice is
 * batched and sent after the commit, never inside it: on PostgreSQL every notifying
 * commit queues behind one cluster-wide lock, which would cap the hottest write of all.
 */
import { NotFoundError } from "../errors.js";
import { type Message, toMessage } from "../messages/index.js";
import type { Store } from "../store.js";
import { assertUuid, intInRange } from "../validation.js";
import type { Notice, RunEventBus } from "./notifier.js";
import { isTerminal, type RunEvent, toRunEvent } from "./types.js";

/** One item of a followed conversation. */
export type ConversationFeedItem = { type: "message"; message: Message } | { type: "run_event"; event: RunEvent };

export interface ConversationFollowOptions {
  /** Yield messages with `seq` greater than this (default: the conversation's last, i.e. only new ones). */
  afterSeq?: number;
  /** Ends the iteration (the client went away). */
  signal?: AbortSignal;
}

const PAGE = 200;

/**
 * Live following of one conversation (`convo.runs.feed`): a second device, an operator
 * view or an SSE endpoint sees new messages and run events as they are stored.
 *
 * @example
 * const controller = new AbortController();
 * for await (const item of await convo.runs.feed.follow(userId, conversationId, { signal: controller.signal })) {
 *   if (item.type === "message") render(item.message);
 *   else if (item.event.type === "delta") appendText(item.event.content);
 * }
 */
export class ConversationFeed {
  constructor(
    private readonly store: Store,
    private readonly bus: RunEventBus,
    private readonly recheckMs: number,
  ) {}

  /**
   * Announces that `message` is stored, so followers of its conversation on every
   * node read it (within a few milliseconds). Call after the append has committed; a
   * failure is reported, not thrown (the message is stored either way).
   */
  publishMessage(message: Pick<Message, "userId" | "conversationId" | "seq">): void {
    // Batched: a burst of appends costs one NOTIFY statement, not one each.
    this.bus.enqueue({ kind: "message", userId: message.userId, conversationId: message.conversationId, seq: message.seq });
  }

  /**
   * Checks the conversation is the user's (NotFoundError first), then yields its
   * messages after `afterSeq` and, from then on, new messages and the events of its
   * runs — a run already running is replayed from its first event. Runs until
   * `signal` aborts.
   */
  async follow(
    userId: string,
    conversationId: string,
    options: ConversationFollowOptions = {},
  ): Promise<AsyncGenerator<ConversationFeedItem, void, undefined>> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const pending: Notice[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.bus.onConversation(cid, (notice) => {
      pending.push(notice);
      wake?.();
    });
    try {
      await this.bus.ready();
      const conversation = await this.store.statement((uow) => uow.conversations.find(uid, cid));
      if (!conversation) throw new NotFoundError("conversation", cid);
      const afterSeq = intInRange("afterSeq", options.afterSeq, 0, 2 ** 31 - 1, conversation.lastSeq);
      const running = await this.store.statement((uow) => uow.runs.findRunning(uid, cid));
      return this.#items(uid, cid, afterSeq, conversation.lastSeq, running?.id, pending, unsubscribe, options.signal, (fn) => {
        wake = fn;
      });
    } catch (error) {
      unsubscribe();
      throw error;
    }
  }

  async *#items(
    uid: string,
    cid: string,
    afterSeq: number,
    /** Messages after this seq were stored while following (live); earlier ones are replayed history. */
    liveAfter: number,
    runningId: string | undefined,
    pending: Notice[],
    unsubscribe: () => void,
    signal: AbortSignal | undefined,
    setWake: (fn: (() => void) | undefined) => void,
  ): AsyncGenerator<ConversationFeedItem, void, undefined> {
    let messageSeq = afterSeq;
    // Per run followed: the last event seq yielded; a run leaves the map at its terminal event.
    const runs = new Map<string, number>();
    const ended = new Set<string>();
    if (runningId) runs.set(runningId, 0);
    const store = this.store;
    const readMessages = async function* () {
      for (;;) {
        const rows = await store.statement((uow) => uow.messages.page(uid, cid, messageSeq, PAGE));
        for (const row of rows.slice(0, PAGE)) {
          // A run's answer was committed with the run's terminal event: when the reads
          // overtake the run's notices (a run faster than the notices), its events come
          // first, in the order they happened. Replayed history stays messages only.
          if (row.runId && row.seq > liveAfter && !ended.has(row.runId)) {
            if (!runs.has(row.runId)) runs.set(row.runId, 0);
            yield* readRun(row.runId);
          }
          messageSeq = row.seq;
          yield { type: "message", message: toMessage(row) } as const;
        }
        if (rows.length <= PAGE) return;
      }
    };
    const readRun = async function* (runId: string): AsyncGenerator<ConversationFeedItem, void, undefined> {
      for (;;) {
        const after = runs.get(runId);
        if (after === undefined) return;
        const rows = await store.statement((uow) => uow.runs.eventsAfter(uid, runId, after, PAGE));
        for (const row of rows.slice(0, PAGE)) {
          const event = toRunEvent(row);
          runs.set(runId, event.seq);
          yield { type: "run_event", event } as const;
          if (isTerminal(event.type)) {
            runs.delete(runId);
            ended.add(runId);
            return;
          }
        }
        if (rows.length <= PAGE) return;
      }
    };
    let wakeNow: (() => void) | undefined;
    const onAbort = () => wakeNow?.();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      yield* readMessages();
      for (const runId of [...runs.keys()]) yield* readRun(runId);
      for (;;) {
        if (signal?.aborted) return;
        const notice = pending.shift();
        if (!notice) {
          // Wait for a notice; after `recheckMs` without one, re-read everything in
          // case a notice was lost.
          const timedOut = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(true), this.recheckMs);
            wakeNow = () => {
              clearTimeout(timer);
              resolve(false);
            };
            setWake(wakeNow);
          });
          wakeNow = undefined;
          setWake(undefined);
          if (timedOut) {
            yield* readMessages();
            for (const runId of [...runs.keys()]) yield* readRun(runId);
          }
          continue;
        }
        if (notice.kind === "message" && notice.seq > messageSeq) yield* readMessages();
        if (notice.kind === "run" && !ended.has(notice.runId)) {
          if (!runs.has(notice.runId)) {
            // A new run: its user message was committed with it and comes first.
            runs.set(notice.runId, 0);
            yield* readMessages();
          }
          if ((runs.get(notice.runId) ?? 0) < notice.seq) yield* readRun(notice.runId);
        }
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      setWake(undefined);
      unsubscribe();
    }
  }
}

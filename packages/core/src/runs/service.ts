/**
 * Use cases for background runs (DESIGN.md §1.6): start, read, poll, long-poll,
 * follow, cancel, and the lease sweep. Rules (see docs/runs.md):
 *
 * - One run at a time per conversation: a start while one is running answers 409
 *   `RUN_IN_PROGRESS` (with the running run's id) and stores nothing.
 * - Limits: `maxRunsPerNode` runs executing on this node and `maxRunsPerUser` running
 *   runs per user (all nodes); one more answers 429 `RATE_LIMITED` and stores nothing.
 * - A start repeated with the same `clientMessageId` answers the run that message
 *   started (`created: false`) without a second message or run — and without limits.
 */
import { randomUUID } from "node:crypto";
import type { BackgroundErrorHandler } from "../background/types.js";

import type { Page } from "../cursor.js";
import { decodeCursor, keysetPage } from "../cursor.js";
import { ConflictError, NodeShuttingDownError, NotFoundError, RateLimitError, ValidationError } from "../errors.js";
import { appendedRow, type Message, type MessageInput, toMessage } from "../messages/index.js";
import type { Store, UnitOfWork } from "../store.js";
import { assertUuid, intInRange } from "../validation.js";
import type { RunsConfig } from "./config.js";
import type { ConversationFeed } from "./conversation-feed.js";
import type { RunExecutor } from "./executor.js";
import { RunFollowing } from "./follow.js";
import type { LeaseKeeper } from "./lease-keeper.js";
import type { ModelRegistry } from "./models.js";
import type { RunEventBus } from "./notifier.js";
import type { RunMessageWriter } from "./ports.js";
import {
  type NewRunEvent,
  type Run,
  type RunEvent,
  type RunEventPage,
  type RunRow,
  type RunToolChoice,
  toRun,
  toRunEvent,
} from "./types.js";

export interface StartRunInput {
  /** The user's message (ignored with `messageId`). */
  content?: string;
  /**
   * Answer a user message stored already (e.g. recorded by the Telegram middleware)
   * instead of storing a new one. A second start for the same message answers the
   * same run.
   */
  messageId?: string;
  /** The client's id for the message: a retried start answers the same run. */
  clientMessageId?: string;
  /** Structured parts of the user message (attachments…). */
  parts?: unknown[] | null;
  /** Model id (`offline`, `openai:gpt-4o-mini`…); default: the configured default model. */
  model?: string;
  /** Whether and which tools the model may call (default `auto`). */
  toolChoice?: RunToolChoice;
}

export interface RegenerateRunInput {
  /** The user message to answer again; default: the conversation's last user message. */
  userMessageId?: string;
  /** Model id; default: the configured default model. */
  model?: string;
  toolChoice?: RunToolChoice;
}

export interface StartRunResult {
  run: Run;
  /** The stored user message. */
  message: Message;
  /** False when `clientMessageId` had started this run before. */
  created: boolean;
}

export interface EventsOptions {
  /** Answer events with `seq` greater than this (default 0: from the start). */
  after?: number;
  /** At most this many events, 1–1,000 (default 500). */
  limit?: number;
}

export interface WaitOptions extends EventsOptions {
  /** Wait up to this long for an event when none is there yet, 0–300,000 ms (default 30,000). */
  waitMs?: number;
  /** Ends the wait early (the client went away). */
  signal?: AbortSignal;
}

export interface FollowOptions {
  /** Follow from after this seq (a resumed SSE stream's `Last-Event-ID`); default 0. */
  after?: number;
  /** Ends the iteration (the client went away). */
  signal?: AbortSignal;
}

const MAX_SEQ = 2 ** 31 - 1;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function checkToolChoice(value: unknown): RunToolChoice | undefined {
  if (value === undefined) return undefined;
  if (value === "auto" || value === "none" || value === "required") return value;
  if (value !== null && typeof value === "object") {
    const { type, toolName } = value as { type?: unknown; toolName?: unknown };
    if (type === "tool" && typeof toolName === "string" && TOOL_NAME.test(toolName)) return { type, toolName };
  }
  throw new ValidationError('toolChoice must be "auto", "none", "required" or { type: "tool", toolName }', {
    field: "toolChoice",
  });
}

/** The first event of every run: it started, with this model, answering this message. */
function startedEvent(model: string, userMessageId: string): NewRunEvent {
  return { type: "thinking", content: null, data: { phase: "started", model, userMessageId } };
}

/** The options a run is stored with: its model, its tool choice when given, and `extra` (a regeneration's mark). */
function runOptions(model: string, toolChoice: RunToolChoice | undefined, extra: Record<string, unknown> = {}) {
  return toolChoice === undefined ? { model, ...extra } : { model, toolChoice, ...extra };
}

/** RUN_IN_PROGRESS, naming the conversation's running run when it is known. */
function runInProgress(runId: string | undefined): ConflictError {
  return new ConflictError(
    "RUN_IN_PROGRESS",
    "A run is already running in this conversation; wait for it or cancel it",
    runId === undefined ? {} : { runId },
  );
}

export interface RunsServiceDeps {
  store: Store;
  config: RunsConfig;
  messages: RunMessageWriter;
  models: ModelRegistry;
  bus: RunEventBus;
  executor: RunExecutor;
  leases: LeaseKeeper;
  feed: ConversationFeed;
  lifecycle: { sweepBatchSize: number; sweepMaxBatches: number };
  onError: BackgroundErrorHandler;
}

/**
 * Background runs (`convo.runs`): one assistant turn executed after the call returns,
 * its events stored as they come. Start, then read the events by polling, long-polling
 * or following; cancel from any node.
 *
 * @example
 * const { run } = await convo.runs.start(userId, conversationId, { content: "Который час?", clientMessageId: "tg:1042" });
 * const page = await convo.runs.waitForEvents(userId, run.id, { after: 0, waitMs: 25_000 });
 * if (!page.finished) await convo.runs.cancel(userId, run.id);
 */
export class RunsService {
  readonly #following: RunFollowing;
  /** Starts between their limit check and their commit, counted against the node's limit. */
  #starting = 0;

  constructor(private readonly deps: RunsServiceDeps) {
    this.#following = new RunFollowing(deps.store, deps.bus, deps.config.recheckMs, deps.onError);
  }

  /**
   * Following a conversation live (its messages and its runs' events), and announcing
   * messages appended outside runs so followers see them.
   */
  get feed(): ConversationFeed {
    return this.deps.feed;
  }

  /** This node's id (stored in `runs.node_id` of the runs it executes). */
  get nodeId(): string {
    return this.deps.config.nodeId;
  }

  /** Runs executing on this node and live followers, for metrics. */
  get stats(): { executing: number; followers: number } {
    return { executing: this.deps.executor.size, followers: this.#following.followerCount };
  }

  /**
   * Starts a run: in one transaction the user message is appended, the run is stored
   * `running` with its first event (`thinking`, phase `started`); the answer comes at
   * once and the model is called after the commit, detached from the caller.
   *
   * Throws NotFoundError (no such conversation, or another user's), ConflictError
   * `CONVERSATION_CLOSED` / `RUN_IN_PROGRESS` / `CLIENT_MESSAGE_ID_REUSED`,
   * RateLimitError (node or user limit), ValidationError (input, `UNKNOWN_MODEL`).
   *
   * @example
   * const { run } = await convo.runs.start(userId, conversationId, { content: "Привет!" });
   * for await (const event of await convo.runs.follow(userId, run.id)) console.log(event.type, event.content);
   */
  async start(userId: string, conversationId: string, input: StartRunInput): Promise<StartRunResult> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    if (input === null || typeof input !== "object")
      throw new ValidationError("the run input must be an object", { field: "body" });
    const storedId = input.messageId === undefined ? undefined : assertUuid("messageId", input.messageId);
    const msg =
      storedId === undefined
        ? this.deps.messages.check({
            role: "user",
            content: input.content as string,
            clientMessageId: input.clientMessageId,
            parts: input.parts,
          })
        : undefined;
    const model = this.deps.models.check(input.model ?? this.deps.models.defaultModel);
    const toolChoice = checkToolChoice(input.toolChoice);
    if (this.deps.executor.closed) throw new NodeShuttingDownError();
    const { store } = this.deps;
    const startedAt = performance.now();
    this.#starting += 1;
    try {
      // The common start (a new message that may not replay a clientMessageId): one statement.
      if (msg !== undefined && !msg.clientMessageId) {
        return await store.statement((uow) => this.#startWithMessage(uow, uid, cid, msg, model, toolChoice, startedAt));
      }
      return await store.transaction(async (uow) => {
        // The user's row lock serialises the user's starts, so the per-user count in
        // insertRunning sees them all.
        if (!(await uow.users.lock(uid))) throw new NotFoundError("conversation", cid);
        const { message, created } = msg
          ? await this.deps.messages.appendIn(uow, uid, cid, msg)
          : await this.#storedUserMessage(uow, uid, cid, storedId as string);
        if (!created) {
          const existing = await uow.runs.findByUserMessage(uid, cid, message.id);
          if (existing) return { run: toRun(existing), message, created: false };
          throw new ConflictError(
            "CLIENT_MESSAGE_ID_REUSED",
            "clientMessageId was already used for a message that started no run",
            {
              field: "clientMessageId",
              messageId: message.id,
            },
          );
        }
        const run = await this.#insertRun(uow, uid, cid, message, model, toolChoice, {}, startedAt, msg !== undefined);
        return { run, message, created: true };
      });
    } finally {
      this.#starting -= 1;
    }
  }

  /**
   * The start of a new message without a clientMessageId in one statement
   * (RunsRepository.startWithMessage): message, run and first event, or nothing and the
   * reason read after.
   */
  async #startWithMessage(
    uow: UnitOfWork,
    uid: string,
    cid: string,
    input: MessageInput,
    model: string,
    toolChoice: RunToolChoice | undefined,
    startedAt: number,
  ): Promise<StartRunResult> {
    const { config, leases, messages } = this.deps;
    this.#checkNodeLimit();
    // The id is chosen here: the run's first event names the message it answers.
    const messageId = randomUUID();
    const msg = messages.newMessage(uow, uid, cid, input, messageId);
    const {
      gate,
      message: stored,
      run: row,
    } = await uow.runs.startWithMessage(
      msg,
      {
        model,
        options: runOptions(model, toolChoice),
        nodeId: config.nodeId,
        leaseExpiresAt: leases.leaseFrom(uow.now),
        maxPerUser: config.maxRunsPerUser,
      },
      startedEvent(model, messageId),
    );
    if (!row || !stored) {
      // Why nothing was written, the lasting reasons first (as a transaction's start reports them).
      await messages.assertOpen(uow, uid, cid);
      // The run the gate saw may have ended since: the conflict then names none.
      if (gate === -1) throw runInProgress((await uow.runs.findRunning(uid, cid))?.id);
      if (gate >= config.maxRunsPerUser) throw this.#userLimit();
      throw new Error(`run start wrote nothing with the conversation open and the gate at ${gate}`);
    }
    const message = messages.appended(uow, appendedRow(msg, stored.id, stored.seq));
    this.#launchAfterCommit(uow, row, message, startedAt, true);
    return { run: toRun(row), message, created: true };
  }

  /**
   * The stored user message a run should answer: `created` is false when a run
   * answers it already (the caller then answers that run).
   */
  async #storedUserMessage(uow: UnitOfWork, userId: string, conversationId: string, messageId: string) {
    const row = await uow.messages.find(userId, messageId);
    if (!row || row.conversationId !== conversationId) throw new NotFoundError("message", messageId);
    if (row.role !== "user") {
      throw new ValidationError("messageId must name a user message", { field: "messageId", role: row.role });
    }
    const answered = await uow.runs.findByUserMessage(userId, conversationId, row.id);
    return { message: toMessage(row), created: !answered };
  }

  /**
   * Starts a new run that answers an earlier user message again (the AI SDK's
   * "regenerate"): no message is appended; the model sees the conversation up to that
   * message. The previous answer stays stored (nothing is deleted); the new answer is
   * appended after it when the run is done. `userMessageId` defaults to the
   * conversation's last user message. Same rules and errors as `start`.
   *
   * @example
   * const { run } = await convo.runs.regenerate(userId, conversationId);
   */
  async regenerate(userId: string, conversationId: string, input: RegenerateRunInput = {}): Promise<StartRunResult> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const wanted = input.userMessageId === undefined ? undefined : assertUuid("userMessageId", input.userMessageId);
    const model = this.deps.models.check(input.model ?? this.deps.models.defaultModel);
    const toolChoice = checkToolChoice(input.toolChoice);
    if (this.deps.executor.closed) throw new NodeShuttingDownError();
    const startedAt = performance.now();
    this.#starting += 1;
    try {
      return await this.deps.store.transaction(async (uow) => {
        if (!(await uow.users.lock(uid))) throw new NotFoundError("conversation", cid);
        const conversation = await uow.conversations.find(uid, cid);
        if (!conversation) throw new NotFoundError("conversation", cid);
        if (conversation.closedAt) {
          throw new ConflictError("CONVERSATION_CLOSED", "The conversation is closed; start a new one", { conversationId: cid });
        }
        const row = await uow.messages.lastUserMessage(uid, cid, wanted);
        if (!row) {
          throw wanted
            ? new NotFoundError("message", wanted)
            : new ConflictError("NOTHING_TO_REGENERATE", "The conversation has no user message to answer again");
        }
        const message = toMessage(row);
        const run = await this.#insertRun(uow, uid, cid, message, model, toolChoice, { regenerate: true }, startedAt);
        return { run, message, created: true };
      });
    } finally {
      this.#starting -= 1;
    }
  }

  /** Stores a running run answering `message` with its first event; launches it after the commit. */
  async #insertRun(
    uow: UnitOfWork,
    uid: string,
    cid: string,
    message: Message,
    model: string,
    toolChoice: RunToolChoice | undefined,
    extra: Record<string, unknown>,
    startedAt: number,
    /** False when the message was stored (and announced) before this start. */
    messageIsNew = !extra.regenerate,
  ): Promise<Run> {
    const { config, leases } = this.deps;
    this.#checkNodeLimit();
    const row = await uow.runs.insertRunning(
      {
        userId: uid,
        conversationId: cid,
        userMessageId: message.id,
        model,
        options: runOptions(model, toolChoice, extra),
        nodeId: config.nodeId,
        leaseExpiresAt: leases.leaseFrom(uow.now),
        maxPerUser: config.maxRunsPerUser,
        now: uow.now,
      },
      startedEvent(model, message.id),
    );
    if (!row) {
      const running = await uow.runs.findRunning(uid, cid);
      throw running ? runInProgress(running.id) : this.#userLimit();
    }
    this.#launchAfterCommit(uow, row, message, startedAt, messageIsNew);
    return toRun(row);
  }

  #checkNodeLimit(): void {
    const { config, executor } = this.deps;
    if (executor.size + this.#starting > config.maxRunsPerNode) {
      throw new RateLimitError(`This node runs ${config.maxRunsPerNode} runs already; retry shortly`, {
        limit: "node",
        max: config.maxRunsPerNode,
      });
    }
  }

  #userLimit(): RateLimitError {
    const { maxRunsPerUser } = this.deps.config;
    return new RateLimitError(`You have ${maxRunsPerUser} runs running already; wait for one to finish`, {
      limit: "user",
      max: maxRunsPerUser,
    });
  }

  /** Once `uow` commits: the notices, then the run executes on this node. */
  #launchAfterCommit(uow: UnitOfWork, row: RunRow, message: Message, startedAt: number, messageIsNew: boolean): void {
    const { executor, leases, bus } = this.deps;
    const { userId: uid, conversationId: cid } = row;
    uow.afterCommit(() => {
      // Queued before the executor can store more, so followers hear of the message
      // and the run in the order they happened (the batch keeps that order).
      // A regeneration, or an answer to a message stored before, appended nothing: only the run is news.
      if (messageIsNew) bus.enqueue({ kind: "message", userId: uid, conversationId: cid, seq: message.seq });
      bus.enqueue({ kind: "run", userId: uid, runId: row.id, conversationId: cid, seq: 1, type: "thinking" });
      executor.launch(row, startedAt);
      leases.start();
    });
  }

  /** The run, or NotFoundError (also when it is another user's). */
  async get(userId: string, runId: string): Promise<Run> {
    const uid = assertUuid("userId", userId);
    const rid = assertUuid("runId", runId);
    const row = await this.deps.store.statement((uow) => uow.runs.find(uid, rid));
    if (!row) throw new NotFoundError("run", rid);
    return toRun(row);
  }

  /** The owner of a run by id alone — for admin requests that name no user. */
  async ownerOf(runId: string): Promise<string> {
    const rid = assertUuid("runId", runId);
    const owner = await this.deps.store.statement((uow) => uow.runs.ownerOf(rid));
    if (!owner) throw new NotFoundError("run", rid);
    return owner;
  }

  /** A conversation's runs, newest first, `limit` 1–100 (default 20), with a keyset cursor. */
  async list(userId: string, conversationId: string, options: { limit?: number; cursor?: string } = {}): Promise<Page<Run>> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const limit = intInRange("limit", options.limit, 1, 100, 20);
    const scope = `runs:${uid}:${cid}`;
    const position = options.cursor === undefined ? undefined : decodeCursor(scope, options.cursor, this.deps.store.cursorSecret);
    return this.deps.store.transaction(async (uow) => {
      const after = position ? { createdAt: position.updatedAt, id: position.id } : undefined;
      const rows = await uow.runs.page(uid, cid, limit, after);
      if (rows.length === 0 && !(await uow.conversations.find(uid, cid))) throw new NotFoundError("conversation", cid);
      return keysetPage(rows.map(toRun), limit, scope, this.deps.store.cursorSecret, (run) => run.createdAt);
    });
  }

  /** Events after `after`, oldest first, with the run's status (NotFoundError for another user's run). */
  async events(userId: string, runId: string, options: EventsOptions = {}): Promise<RunEventPage> {
    const uid = assertUuid("userId", userId);
    const rid = assertUuid("runId", runId);
    const after = intInRange("after", options.after, 0, MAX_SEQ, 0);
    const limit = intInRange("limit", options.limit, 1, 1000, 500);
    return this.#page(uid, rid, after, limit);
  }

  async #page(uid: string, rid: string, after: number, limit: number): Promise<RunEventPage> {
    // Status first, events second (two autocommit reads): a run seen finished has
    // its terminal event in the second read, because both were committed together.
    const run = await this.deps.store.statement((uow) => uow.runs.find(uid, rid));
    if (!run) throw new NotFoundError("run", rid);
    const rows = await this.deps.store.statement((uow) => uow.runs.eventsAfter(uid, rid, after, limit));
    const events = rows.slice(0, limit).map(toRunEvent);
    const hasMore = rows.length > limit;
    return {
      events,
      hasMore,
      nextAfter: events.length > 0 ? events[events.length - 1]!.seq : after,
      status: run.status as Run["status"],
      finished: run.status !== "running" && !hasMore,
    };
  }

  /**
   * Long-poll: answers at once when there are events after `after` or the run has
   * ended; otherwise waits for the next stored event (woken by NOTIFY, no polling),
   * for `waitMs`, or until `signal` aborts, and answers what is there then (possibly
   * nothing).
   */
  async waitForEvents(userId: string, runId: string, options: WaitOptions = {}): Promise<RunEventPage> {
    const uid = assertUuid("userId", userId);
    const rid = assertUuid("runId", runId);
    const after = intInRange("after", options.after, 0, MAX_SEQ, 0);
    const limit = intInRange("limit", options.limit, 1, 1000, 500);
    const waitMs = intInRange("waitMs", options.waitMs, 0, 300_000, 30_000);
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    // Subscribed before the first read: an event stored in between wakes us.
    const unsubscribe = this.deps.bus.onRun(rid, (notice) => {
      if (notice.kind === "run" && notice.seq > after) wake();
    });
    try {
      if (waitMs > 0) await this.deps.bus.ready();
      const page = await this.#page(uid, rid, after, limit);
      if (page.events.length > 0 || page.finished || waitMs === 0 || options.signal?.aborted) return page;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => wake();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        await Promise.race([
          woken,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, waitMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      }
      return await this.#page(uid, rid, after, limit);
    } finally {
      unsubscribe();
    }
  }

  /**
   * Follows a run (for SSE): checks the run is the user's (NotFoundError before any
   * event), then yields every event after `after` exactly once, in seq order — the
   * stored ones, then live ones as they are stored — and ends after the terminal
   * event or when `signal` aborts. Resume with the last seq seen as `after`.
   *
   * @example
   * for await (const event of await convo.runs.follow(userId, runId, { after: lastEventId, signal })) {
   *   res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
   * }
   */
  async follow(userId: string, runId: string, options: FollowOptions = {}): Promise<AsyncGenerator<RunEvent, void, undefined>> {
    const uid = assertUuid("userId", userId);
    const rid = assertUuid("runId", runId);
    const after = intInRange("after", options.after, 0, MAX_SEQ, 0);
    await this.get(uid, rid);
    return this.#following.follow(uid, rid, after, options.signal);
  }

  /**
   * Requests cancellation; works on any node. The node executing the run aborts the
   * model call and ends the run `cancelled`: the deltas so far stay, no assistant
   * message is written. Answers the run as it is now (still `running` until that
   * node has stored the end); a finished run is answered unchanged.
   */
  async cancel(userId: string, runId: string): Promise<Run> {
    const uid = assertUuid("userId", userId);
    const rid = assertUuid("runId", runId);
    const result = await this.deps.store.statement((uow) => uow.runs.requestCancel(uid, rid, uow.now));
    if (!result) throw new NotFoundError("run", rid);
    if (result.requested) {
      this.deps.executor.stop(rid, "cancel");
      await this.deps.bus.publishQuietly([
        { kind: "cancel", userId: uid, runId: rid, conversationId: result.run.conversationId },
      ]);
    }
    return toRun(result.run);
  }

  /**
   * Ends runs whose lease expired — their node died or hung — as `error` with an
   * `error` event "interrupted…", in bounded batches. Answers how many it ended. The
   * sweep (`convo.sweeps.runAll`) calls it; call it about every lease length.
   */
  async expireLeases(now = this.deps.store.clock()): Promise<number> {
    const { sweepBatchSize: batch, sweepMaxBatches } = this.deps.lifecycle;
    let total = 0;
    for (let i = 0; i < sweepMaxBatches; i++) {
      const ended = await this.deps.store.statement((uow) =>
        uow.runs.expireLeasesBatch(now, batch, "interrupted: the node running this run stopped (lease expired)"),
      );
      total += ended.length;
      await this.deps.bus.publishQuietly(
        ended.map((run) => ({
          kind: "run" as const,
          userId: run.userId,
          runId: run.id,
          conversationId: run.conversationId,
          seq: run.seq,
          type: "error" as const,
        })),
      );
      if (ended.length < batch) break;
    }
    return total;
  }

  /**
   * Stops this node's part: no new starts; runs executing here are aborted and end
   * `error` ("interrupted: node shutting down", deltas kept); heartbeats stop.
   */
  async close(): Promise<void> {
    await this.deps.executor.shutdown(this.deps.config.shutdownTimeoutMs);
    await this.deps.leases.stop();
    await this.deps.bus.close();
  }
}

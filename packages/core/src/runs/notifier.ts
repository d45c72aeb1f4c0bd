/**
 * Cross-node wake-ups for runs and conversations over PostgreSQL LISTEN/NOTIFY (on
 * PGlite, its in-process `listen`). A notice says only *that* something was stored
 * (run, seq, type); whoever wakes reads the rows from the database, so a lost or
 * duplicated notice never loses or duplicates data.
 *
 * One LISTEN per store on one channel named after the engine's schema (several
 * Convo schemas can share a database); notices are dispatched in-process to
 * subscribers by run id and by conversation id.
 *
 * Subscribers on the node that stored the data hear of it at once, in-process; the
 * NOTIFY is for the other nodes (each bus marks its notices with an origin id and
 * skips its own when they come back), so a follower on the writing node does not wait
 * for the batch delay and a round trip through the database.
 *
 * Durable writes send their notices by their own statement right after the commit of
 * the data they announce, not inside that transaction: a transaction that has issued
 * NOTIFY holds a cluster-wide lock from its commit until its WAL is flushed, which
 * serialises every notifying commit (measured: 16 writers fell from ~3,600 to ~1,000
 * commits/s). A NOTIFY-only statement writes no WAL and holds that lock only briefly.
 * A run's intermediate events commit relaxed (no wait for the flush), so their
 * statement carries its notice itself (`wireNotice`, RunsRepository.appendProgress).
 */

import { createHash, randomBytes } from "node:crypto";
import type { BackgroundErrorHandler } from "../background/types.js";
import { mapDatabaseError } from "../db/pg-errors.js";
import type { Store } from "../store.js";
import type { RunEventType } from "./types.js";

/** "Events up to `seq` are stored for this run"; `type` is the last one's. */
export interface RunEventNotice {
  kind: "run";
  userId: string;
  runId: string;
  conversationId: string;
  seq: number;
  type: RunEventType;
}

/** "Cancellation of this run was requested": the node executing it aborts. */
export interface RunCancelNotice {
  kind: "cancel";
  userId: string;
  runId: string;
  conversationId: string;
}

/** "Messages up to `seq` are stored in this conversation." */
export interface MessageNotice {
  kind: "message";
  userId: string;
  conversationId: string;
  seq: number;
}

export type Notice = RunEventNotice | RunCancelNotice | MessageNotice;

/** The longest a run notice (start, events, end) waits to be batched with others. */
const RUN_NOTICE_DELAY_MS = 5;
/** The longest a message notice waits to be batched with others. */
const MESSAGE_NOTICE_DELAY_MS = 25;
type Listener = (notice: Notice) => void;

/**
 * The NOTIFY channel of a schema. Channel names are identifiers of at most 63
 * bytes; a schema name too long for the prefix is replaced by its hash.
 *
 * @example
 * notifyChannel("public"); // "convo_public"
 * await engine.listen(notifyChannel(engine.schema), (payload) => console.log(payload));
 */
export function notifyChannel(schema: string): string {
  const name = `convo_${schema}`;
  return name.length <= 63 ? name : `convo_${createHash("md5").update(schema).digest("hex")}`;
}

/** A notice on the wire: `o` is the origin, the id of the bus that sent it. */
type WireNotice = Notice & { o?: string };

function parseNotice(payload: string): WireNotice | undefined {
  try {
    const value = JSON.parse(payload) as Partial<WireNotice> | null;
    if (!value || typeof value !== "object" || typeof value.conversationId !== "string") return undefined;
    if (value.kind === "run" || value.kind === "cancel" || value.kind === "message") return value as WireNotice;
  } catch {
    // Not ours (someone else NOTIFYing on the channel): ignored.
  }
  return undefined;
}

/**
 * The store's wake-up bus: subscribe by run or conversation id, `ready()` before
 * reading, then read the rows a notice points at. Publish only after the commit of
 * the data it announces. One per store; `convo.runs` owns it.
 *
 * @example
 * const bus = new RunEventBus(store, console.error);
 * const off = bus.onRun(runId, (notice) => {
 *   if (notice.kind === "run" && isTerminal(notice.type)) console.log("run ended at seq", notice.seq);
 * });
 * await bus.ready(); // now read the run's events: anything later arrives as a notice
 * off();
 * await bus.close();
 */
export class RunEventBus {
  readonly channel: string;
  /** Marks this bus's notices, so it skips them when the NOTIFY comes back. */
  readonly #origin = randomBytes(6).toString("base64url");
  readonly #byRun = new Map<string, Set<Listener>>();
  readonly #byConversation = new Map<string, Set<Listener>>();
  #listening: Promise<() => Promise<void>> | undefined;
  #closed = false;

  constructor(
    private readonly store: Store,
    private readonly onError: BackgroundErrorHandler,
  ) {
    this.channel = notifyChannel(store.engine.schema);
  }

  /**
   * Resolves once this store LISTENs on its channel. Subscribe (and await this)
   * before reading the database, then read: a change between the two is then either
   * in the read or announced by a notice.
   */
  async ready(): Promise<void> {
    if (this.#closed) throw new Error("the run event bus is closed");
    this.#listening ??= this.store.engine.listen(this.channel, (payload) => this.#receive(payload));
    try {
      await this.#listening;
    } catch (error) {
      this.#listening = undefined;
      throw mapDatabaseError(error);
    }
  }

  /** Calls `fn` with every notice about run `runId` until the answered function is called. */
  onRun(runId: string, fn: Listener): () => void {
    return this.#add(this.#byRun, runId, fn);
  }

  /** Calls `fn` with every notice about conversation `conversationId` (its runs and messages). */
  onConversation(conversationId: string, fn: Listener): () => void {
    return this.#add(this.#byConversation, conversationId, fn);
  }

  /**
   * Tells this node's subscribers at once and the other nodes by one NOTIFY statement.
   * Call it after the data the notices announce has committed.
   */
  async publish(notices: Notice[]): Promise<void> {
    if (notices.length === 0 || this.#closed) return;
    for (const notice of notices) this.#dispatch(notice);
    await this.#send(notices);
  }

  /** Like `publish`, but a failed NOTIFY goes to the background error handler: the data is stored either way. */
  publishQuietly(notices: Notice[]): Promise<void> {
    return this.publish(notices).catch((error) => this.onError(error, { source: "notify" }));
  }

  /** The NOTIFY for the other nodes (this one has heard already). */
  async #send(notices: Notice[]): Promise<void> {
    if (notices.length === 0 || this.#closed) return;
    try {
      await this.store.engine.notify(
        this.channel,
        notices.map((n) => JSON.stringify({ ...n, o: this.#origin })),
      );
    } catch (error) {
      throw mapDatabaseError(error);
    }
  }

  /** Notices waiting for the next batch: the newest per run and per conversation. */
  #queued = new Map<string, Notice>();
  #flushing: NodeJS.Timeout | undefined;
  /** When the scheduled batch goes out (performance.now()). */
  #due = Number.POSITIVE_INFINITY;

  /**
   * The NOTIFY payload of a run notice for a statement that sends it itself (the
   * statement adds `seq`; see RunsRepository.appendProgress), marked as this node's.
   * Tell this node's subscribers with `dispatchLocal` once it has committed.
   *
   * @example
   * const notice = bus.wireNotice({ kind: "run", userId, runId, conversationId, type: "delta" });
   * const stored = await store.statement((uow) => uow.runs.appendProgress(userId, runId, events, uow.now, { channel: bus.channel, notice }));
   * if (stored) bus.dispatchLocal({ kind: "run", userId, runId, conversationId, type: "delta", seq: stored.lastSeq });
   */
  wireNotice(notice: Omit<RunEventNotice, "seq">): string {
    return JSON.stringify({ ...notice, o: this.#origin });
  }

  /** Tells this node's subscribers of a notice whose NOTIFY was sent by the statement that stored its data. */
  dispatchLocal(notice: Notice): void {
    if (!this.#closed) this.#dispatch(notice);
  }

  /**
   * Publishes `notice` within `delayMs`, together with whatever else was queued
   * meanwhile: one NOTIFY statement per batch, and one notice per run and per
   * conversation (the newest seq: a woken reader reads everything after what it has).
   * Each NOTIFY costs a statement, a pooled connection and a cluster-wide lock; sent one
   * by one, a run's notices (its start, its events, its answer) were two and a half
   * statements per run and a message's a third of a busy writer's CPU per append
   * (docs/performance.md). Run notices wait at most 5 ms, message notices 25 ms; this
   * node's own subscribers are told at once. A cancellation is never merged with
   * another notice.
   */
  enqueue(notice: Notice, delayMs = notice.kind === "message" ? MESSAGE_NOTICE_DELAY_MS : RUN_NOTICE_DELAY_MS): void {
    if (this.#closed) return;
    this.#dispatch(notice);
    const key =
      notice.kind === "message"
        ? `m:${notice.conversationId}`
        : notice.kind === "run"
          ? `r:${notice.runId}`
          : `c:${notice.runId}`;
    const queued = this.#queued.get(key);
    const newer = !queued || !("seq" in queued) || !("seq" in notice) || queued.seq < notice.seq;
    if (newer) {
      // Re-inserted, so the batch keeps the order in which the newest notices came.
      this.#queued.delete(key);
      this.#queued.set(key, notice);
    }
    const due = performance.now() + delayMs;
    if (due >= this.#due) return;
    if (this.#flushing) clearTimeout(this.#flushing);
    this.#due = due;
    this.#flushing = setTimeout(() => {
      this.#flushing = undefined;
      this.#due = Number.POSITIVE_INFINITY;
      void this.#sendQuietly(this.#takeQueued());
    }, delayMs);
  }

  #sendQuietly(notices: Notice[]): Promise<void> {
    return this.#send(notices).catch((error) => this.onError(error, { source: "notify" }));
  }

  #takeQueued(): Notice[] {
    const notices = [...this.#queued.values()];
    this.#queued.clear();
    return notices;
  }

  /** Stops listening; subscribers stay registered but hear nothing more. */
  async close(): Promise<void> {
    if (this.#flushing) {
      clearTimeout(this.#flushing);
      this.#flushing = undefined;
      this.#due = Number.POSITIVE_INFINITY;
      await this.#sendQuietly(this.#takeQueued());
    }
    this.#closed = true;
    const listening = this.#listening;
    this.#listening = undefined;
    if (listening) {
      const unlisten = await listening.catch(() => undefined);
      await unlisten?.().catch((error: unknown) => this.onError(error, { source: "listen" }));
    }
  }

  #add(map: Map<string, Set<Listener>>, key: string, fn: Listener): () => void {
    let set = map.get(key);
    if (!set) {
      set = new Set();
      map.set(key, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && map.get(key) === set) map.delete(key);
    };
  }

  /** A NOTIFY from any node, this one's included (skipped: its subscribers have heard). */
  #receive(payload: string): void {
    const notice = parseNotice(payload);
    if (!notice || notice.o === this.#origin) return;
    const { o: _origin, ...rest } = notice;
    this.#dispatch(rest as Notice);
  }

  #dispatch(notice: Notice): void {
    const targets = [
      ...("runId" in notice ? (this.#byRun.get(notice.runId) ?? []) : []),
      ...(this.#byConversation.get(notice.conversationId) ?? []),
    ];
    for (const fn of targets) {
      try {
        fn(notice);
      } catch (error) {
        this.onError(error, { source: "dispatch" });
      }
    }
  }
}

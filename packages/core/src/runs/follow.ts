/**
 * Following a run's events live (the SSE stream): every event after a seq exactly
 * once, in order, ending after the terminal event.
 *
 * Many followers of one run share one *tail*: on each notice the tail reads the new
 * events once and hands them to every follower, so a thousand followers cost one
 * query per stored batch, not a thousand. A follower joins the tail first and reads
 * its own backlog from the database after that; whatever is stored in between is in
 * the backlog, in the tail's deliveries or in both, and duplicates are dropped by seq.
 * A follower that falls behind (its queue overflows) or sees a gap in seqs reads the
 * database again itself, so no event is skipped whatever the timing.
 */
import type { BackgroundErrorHandler } from "../background/types.js";
import type { Store } from "../store.js";
import type { RunEventBus } from "./notifier.js";
import { isTerminal, type RunEvent, toRunEvent } from "./types.js";

const PAGE = 500;
/** Events a follower may hold unread before it drops them and re-reads from the database. */
const MAX_QUEUE = 2_000;

class Follower {
  queue: RunEvent[] = [];
  stale = false;
  #wake: (() => void) | undefined;

  push(events: RunEvent[]): void {
    if (this.queue.length + events.length > MAX_QUEUE) {
      this.queue = [];
      this.stale = true;
    } else {
      this.queue.push(...events);
    }
    this.wake();
  }

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Resolves when something is pushed, the follower is woken, or `ms` pass. */
  wait(ms: number): Promise<void> {
    if (this.queue.length > 0 || this.stale) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** One run's shared reader. */
class Tail {
  readonly followers = new Set<Follower>();
  #seq: number;
  #fetching = false;
  #again = false;
  #ended = false;
  #unsubscribe: () => void;
  #recheck: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    bus: RunEventBus,
    readonly userId: string,
    readonly runId: string,
    startSeq: number,
    recheckMs: number,
    private readonly onError: BackgroundErrorHandler,
  ) {
    this.#seq = startSeq;
    this.#unsubscribe = bus.onRun(runId, (notice) => {
      if (notice.kind === "run") this.poke(false);
    });
    // The safety net for a lost notice: one read per run every `recheckMs`, shared
    // by all its followers.
    this.#recheck = setInterval(() => this.poke(true), recheckMs);
    this.#recheck.unref();
  }

  poke(recheck: boolean): void {
    if (this.#ended) return;
    if (this.#fetching) {
      this.#again = true;
      return;
    }
    this.#fetching = true;
    void this.#fetch(recheck).finally(() => {
      this.#fetching = false;
      if (this.#again) {
        this.#again = false;
        this.poke(false);
      }
    });
  }

  async #fetch(recheck: boolean): Promise<void> {
    try {
      for (;;) {
        const rows = await this.store.statement((uow) => uow.runs.eventsAfter(this.userId, this.runId, this.#seq, PAGE));
        const events = rows.slice(0, PAGE).map(toRunEvent);
        if (events.length === 0) {
          // On a recheck, a run that is gone (its conversation was deleted) or ended
          // sends its followers to read for themselves, which ends them.
          if (recheck) {
            const run = await this.store.statement((uow) => uow.runs.find(this.userId, this.runId));
            if (run?.status !== "running") this.#sendFollowersToDatabase();
          }
          return;
        }
        this.#seq = events[events.length - 1]!.seq;
        for (const follower of this.followers) follower.push(events);
        if (events.some((ev) => isTerminal(ev.type))) {
          this.#ended = true;
          return;
        }
        if (rows.length <= PAGE) return;
      }
    } catch (error) {
      // The followers read the database themselves; if it is down they fail there,
      // in front of their consumer, instead of waiting for a tail that cannot read.
      this.onError(error, { source: "tail-read", runId: this.runId, userId: this.userId });
      this.#sendFollowersToDatabase();
    }
  }

  #sendFollowersToDatabase(): void {
    for (const follower of this.followers) {
      follower.stale = true;
      follower.wake();
    }
  }

  close(): void {
    this.#ended = true;
    this.#unsubscribe();
    clearInterval(this.#recheck);
  }
}

/** The tails of one store, by run id. */
export class RunFollowing {
  readonly #tails = new Map<string, Tail>();

  constructor(
    private readonly store: Store,
    private readonly bus: RunEventBus,
    private readonly recheckMs: number,
    private readonly onError: BackgroundErrorHandler,
  ) {}

  /** Followers currently attached, over all runs (for metrics and tests). */
  get followerCount(): number {
    let n = 0;
    for (const tail of this.#tails.values()) n += tail.followers.size;
    return n;
  }

  /**
   * Joins the run's tail (creating it) and answers the live events from there on, once
   * the bus listens. The caller has checked that the run is `userId`'s.
   */
  async join(userId: string, runId: string, after: number): Promise<{ follower: Follower; leave: () => void }> {
    await this.bus.ready();
    let tail = this.#tails.get(runId);
    if (!tail) {
      tail = new Tail(this.store, this.bus, userId, runId, after, this.recheckMs, this.onError);
      this.#tails.set(runId, tail);
    }
    const follower = new Follower();
    tail.followers.add(follower);
    const joined = tail;
    return {
      follower,
      leave: () => {
        joined.followers.delete(follower);
        if (joined.followers.size === 0) {
          joined.close();
          if (this.#tails.get(runId) === joined) this.#tails.delete(runId);
        }
      },
    };
  }

  /**
   * Every event of the run after `after`, in seq order, each once, then the live ones;
   * ends after the terminal event, when `signal` aborts, or when the run is gone
   * (its conversation was deleted). A database failure is thrown to the consumer.
   */
  async *follow(userId: string, runId: string, after: number, signal?: AbortSignal): AsyncGenerator<RunEvent, void, undefined> {
    if (signal?.aborted) return;
    const { follower, leave } = await this.join(userId, runId, after);
    const onAbort = () => follower.wake();
    signal?.addEventListener("abort", onAbort, { once: true });
    let seq = after;
    try {
      // Read from the database until it has nothing newer; `true` when the run has ended.
      const readBacklog = async function* (store: Store): AsyncGenerator<RunEvent, boolean, undefined> {
        for (;;) {
          // Status before events, in two autocommit reads: a run seen finished here has
          // its terminal event in the read that follows (both committed together).
          const { run, rows } = await store.statement(async (uow) => {
            const found = await uow.runs.find(userId, runId);
            return { run: found, rows: found ? await uow.runs.eventsAfter(userId, runId, seq, PAGE) : [] };
          });
          if (!run) return true;
          for (const row of rows.slice(0, PAGE)) {
            const event = toRunEvent(row);
            if (event.seq <= seq) continue;
            yield event;
            seq = event.seq;
            if (isTerminal(event.type)) return true;
          }
          if (rows.length <= PAGE) return run.status !== "running";
        }
      };
      if (yield* readBacklog(this.store)) return;
      for (;;) {
        if (signal?.aborted) return;
        const next = follower.queue.shift();
        if (next) {
          if (next.seq <= seq) continue;
          if (next.seq > seq + 1) {
            // A gap: something was delivered before we could take it. Re-read.
            follower.queue = [];
            if (yield* readBacklog(this.store)) return;
            continue;
          }
          yield next;
          seq = next.seq;
          if (isTerminal(next.type)) return;
          continue;
        }
        if (follower.stale) {
          follower.stale = false;
          if (yield* readBacklog(this.store)) return;
          continue;
        }
        await follower.wait(this.recheckMs);
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      leave();
    }
  }
}

/**
 * The store and its unit of work. `store.transaction(fn)` opens one transaction and
 * hands `fn` a UnitOfWork whose repositories all use it; a nested call (anywhere in
 * the same async flow) joins the outer transaction instead of opening a second
 * session — the bug behind "messages saved in a session nobody committed".
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { BackgroundReporter } from "./background/reporter.js";
import type { BackgroundErrorHandler } from "./background/types.js";
import { ContextSnapshotRepository, HistoryRepository } from "./context/index.js";
import { ConversationsRepository } from "./conversations/index.js";
import type { Db, Engine } from "./db/engine.js";
import { mapDatabaseError } from "./db/pg-errors.js";
import { AssistantAnalyticsRepository, AssistantSessionsRepository, LegacyUsersRepository } from "./dialogs/index.js";
import { ErasureRepository } from "./erasure/index.js";
import { ExportRepository } from "./export/index.js";
import { ApiKeysRepository } from "./keys/index.js";
import { MessagesRepository } from "./messages/index.js";
import { RunsRepository } from "./runs/index.js";
import { SearchRepository } from "./search/index.js";
import { StatesRepository } from "./state/index.js";
import { SummariesRepository } from "./summaries/index.js";
import { UsersRepository } from "./users/index.js";
import { WebhooksRepository } from "./webhooks/index.js";

/**
 * One unit of work: a transaction (or one autocommit statement) and its repositories.
 * Not made directly: `store.transaction`, `store.statement` and `store.read` hand one
 * to their callback, and every repository reached from it uses its handle.
 *
 * @example
 * await store.transaction(async (uow) => {
 *   if (!(await uow.users.lock(userId))) throw new NotFoundError("user", userId);
 *   await uow.conversations.closeOpen(userId, "prod", "user", uow.now);
 *   uow.afterCommit(() => console.log("closed at", uow.now.toISOString()));
 * });
 */
export class UnitOfWork {
  /** The time this unit of work runs at; every timestamp it writes uses it. */
  readonly now: Date;
  #afterCommit: (() => void | Promise<void>)[] = [];
  #finished = false;

  constructor(
    /** The Drizzle handle every repository of this unit uses. */
    readonly db: Db,
    readonly store: Store,
    readonly inTransaction: boolean,
  ) {
    this.now = store.clock();
  }

  get users() {
    return new UsersRepository(this.db);
  }
  get conversations() {
    return new ConversationsRepository(this.db);
  }
  get messages() {
    return new MessagesRepository(this.db);
  }
  get states() {
    return new StatesRepository(this.db);
  }
  get runs() {
    return new RunsRepository(this.db);
  }
  get assistantSessions() {
    return new AssistantSessionsRepository(this.db);
  }
  get dialogAnalytics() {
    return new AssistantAnalyticsRepository(this.db);
  }
  get legacyUsers() {
    return new LegacyUsersRepository(this.db);
  }
  get history() {
    return new HistoryRepository(this.db);
  }
  get contextSnapshot() {
    return new ContextSnapshotRepository(this.db);
  }
  get search() {
    return new SearchRepository(this.db);
  }
  get summaries() {
    return new SummariesRepository(this.db);
  }
  get exports() {
    return new ExportRepository(this.db);
  }
  get erasure() {
    return new ErasureRepository(this.db);
  }
  get webhooks() {
    return new WebhooksRepository(this.db);
  }
  get apiKeys() {
    return new ApiKeysRepository(this.db);
  }

  /** Runs `fn` once the transaction has committed (never when it rolls back). */
  afterCommit(fn: () => void | Promise<void>): void {
    this.#afterCommit.push(fn);
  }

  /** @internal */
  finish(): (() => void | Promise<void>)[] {
    this.#finished = true;
    return this.#afterCommit;
  }

  get finished(): boolean {
    return this.#finished;
  }
}

export interface StoreOptions {
  /** Where "now" comes from; tests move it. */
  clock?: () => Date;
  /** Called with an after-commit hook's failure (it never reaches the caller). */
  onBackgroundError?: BackgroundErrorHandler;
  /** Where background failures go (overrides `onBackgroundError`). */
  background?: BackgroundReporter;
  /** Key that signs list cursors; a random one (valid in this process only) when absent. */
  cursorSecret?: Buffer;
  /** Called after every unit of work with its duration, for metrics. */
  observe?: (kind: "transaction" | "statement", ms: number, ok: boolean) => void;
}

/**
 * The store: an engine plus the unit-of-work discipline. Every service goes through
 * it; a host reaches it as `convo.store` (Convo's own packages use it directly).
 *
 * @example
 * const store = new Store(await openEngine({ dataDir: "./.convo-data" }), { onBackgroundError: console.error });
 * const user = await store.read((uow) => uow.users.find(userId));
 * await store.close();
 */
export class Store {
  readonly #current = new AsyncLocalStorage<UnitOfWork>();
  readonly clock: () => Date;
  /** Receives failures of work nobody waits for; hosts subscribe to log and count them. */
  readonly background: BackgroundReporter;
  /** The key list cursors are signed with (see cursor.ts). */
  readonly cursorSecret: Buffer;
  /** Set by the host (the server's metrics) to time units of work. */
  observe: StoreOptions["observe"];

  constructor(
    readonly engine: Engine,
    options: StoreOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.background = options.background ?? new BackgroundReporter(options.onBackgroundError);
    this.cursorSecret = options.cursorSecret ?? randomBytes(32);
    this.observe = options.observe;
  }

  /** The unit of work active in this async flow, if any. */
  get current(): UnitOfWork | undefined {
    const uow = this.#current.getStore();
    return uow && !uow.finished && uow.store === this ? uow : undefined;
  }

  /**
   * Runs `fn` in one transaction; joins the caller's transaction when there is one.
   * A throw anywhere rolls everything back and is rethrown (database errors mapped
   * to typed errors).
   *
   * With `ambient` (what `convo.transaction` uses) the unit of work is also the async
   * flow's current one, so every service called inside `fn` joins it without being
   * handed `uow`. Convo's own code always passes its unit of work explicitly, so its
   * transactions are not ambient: on Node 20 an AsyncLocalStorage in use installs
   * promise hooks that cost every promise of the process (measured: 5–8 % of a run's
   * CPU), and an application that never calls `convo.transaction` should not pay that.
   */
  async transaction<T>(fn: (uow: UnitOfWork) => Promise<T>, options: { ambient?: boolean } = {}): Promise<T> {
    const outer = this.current;
    if (outer?.inTransaction) return fn(outer);
    let uow: UnitOfWork | undefined;
    let result: T;
    const started = performance.now();
    try {
      result = await this.engine.db.transaction(async (tx) => {
        uow = new UnitOfWork(tx as unknown as Db, this, true);
        const unit = uow;
        try {
          return await (options.ambient ? this.#current.run(unit, () => fn(unit)) : fn(unit));
        } finally {
          // Marked finished before COMMIT so that work escaping this flow (timers,
          // detached promises) can no longer join a transaction that is ending.
          unit.finish();
        }
      });
    } catch (error) {
      this.observe?.("transaction", performance.now() - started, false);
      throw mapDatabaseError(error);
    }
    this.observe?.("transaction", performance.now() - started, true);
    this.#runHooks(uow?.finish() ?? []);
    return result;
  }

  /**
   * Runs `fn` as a single autocommit statement: PostgreSQL executes every statement
   * atomically, so a unit of work of one statement needs no BEGIN/COMMIT round trips.
   * Joins the caller's transaction when there is one. `fn` must issue one statement
   * that writes (reads may follow on the error path only).
   */
  async statement<T>(fn: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    const outer = this.current;
    if (outer) return fn(outer);
    const uow = new UnitOfWork(this.engine.db, this, false);
    const started = performance.now();
    try {
      const result = await fn(uow);
      this.observe?.("statement", performance.now() - started, true);
      this.#runHooks(uow.finish());
      return result;
    } catch (error) {
      this.observe?.("statement", performance.now() - started, false);
      uow.finish();
      throw mapDatabaseError(error);
    }
  }

  /**
   * Runs read-only work without a transaction: each read is its own autocommit
   * statement. Under READ COMMITTED a transaction would give the reads no common
   * snapshot anyway, only two more round trips (BEGIN, COMMIT). Joins the caller's
   * transaction when there is one. `fn` must not write.
   */
  read<T>(fn: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return this.statement(fn);
  }

  #runHooks(hooks: (() => void | Promise<void>)[]): void {
    for (const hook of hooks) {
      // Hooks run outside the finished unit of work, detached from the caller.
      this.#current.exit(() => {
        Promise.resolve()
          .then(hook)
          .catch((error) => this.background.report(error, { source: "after-commit" }));
      });
    }
  }

  /** Closes the engine (its pool, or the PGlite data directory). */
  close(): Promise<void> {
    return this.engine.close();
  }
}

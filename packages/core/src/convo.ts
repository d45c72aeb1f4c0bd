/**
 * `openConvo()` — the library's front door: one object with every use case, backed by
 * PGlite (default) or PostgreSQL.
 */

import type { PGlite } from "@electric-sql/pglite";
import { BackgroundReporter } from "./background/reporter.js";
import type { BackgroundErrorHandler } from "./background/types.js";
import { defaultLifecycle, type LifecycleConfig } from "./config.js";
import { ContextService } from "./context/service.js";
import { ConversationsService } from "./conversations/service.js";
import type { Engine } from "./db/engine.js";
import { AssistantAnalyticsService } from "./dialogs/analytics-service.js";
import { AssistantSessionsService } from "./dialogs/service.js";
import { ErasureService } from "./erasure/index.js";
import { ExportService } from "./export/index.js";
import { MessagesService } from "./messages/service.js";
import type { ModelRegistry } from "./runs/models.js";
import type { RunsService } from "./runs/service.js";
import { createRuns, type RunsOptions } from "./runs/setup.js";
import { SearchService } from "./search/index.js";
import { sharedSecret } from "./secrets/repository.js";
import { StateService } from "./state/service.js";
import { Store, type UnitOfWork } from "./store.js";
import {
  extractiveSummary,
  modelSummarizer,
  type SummariesOptions,
  SummariesService,
  type Summarizer,
} from "./summaries/index.js";
import { SweepsService } from "./sweeps/service.js";
import { UsersService } from "./users/service.js";
import { type WebhooksOptions, WebhooksService } from "./webhooks/index.js";

export interface ConvoOptions {
  /** PostgreSQL URL; when absent Convo runs embedded on PGlite. */
  databaseUrl?: string;
  /** PGlite data directory (default `./.convo-data`); `memory://` keeps nothing. */
  dataDir?: string;
  /** An open PGlite instance to use instead of a data directory. */
  pglite?: PGlite;
  /** PostgreSQL schema for Convo's tables (default `public`). */
  schema?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Lifecycle settings; see `defaultLifecycle`. */
  lifecycle?: Partial<LifecycleConfig>;
  /** Where "now" comes from (tests move it). */
  clock?: () => Date;
  /**
   * Receives failures nobody waits for, with where they happened: after-commit hooks,
   * NOTIFY, LISTEN, pool connections, lease heartbeats, run tails, runs. More handlers
   * can be added later with `convo.store.background.subscribe`.
   */
  onBackgroundError?: BackgroundErrorHandler;
  /**
   * Key that signs list cursors. By default a random key generated once per
   * installation and kept in the database (`server_secrets`), so every node accepts
   * the cursors of the others.
   */
  cursorSecret?: string;
  /** Background runs: node id, limits, coalescing, leases, models, tools (see docs/runs.md). */
  runs?: RunsOptions;
  /** Conversation summaries: the model that writes them, or your own summarizer (see docs/memory.md). */
  summaries?: SummariesOptions;
  /** Webhook delivery: retry schedule, timeout, concurrency, HTTP client. */
  webhooks?: WebhooksOptions;
}

/**
 * Opens the engine an options object describes, applying migrations. The drivers are
 * imported here, on first use: loading Convo (or only its types) loads neither.
 * For code that builds its own `Store` (tools, benchmarks); an application calls
 * `openConvo`, which does this for it.
 *
 * @example
 * const engine = await openEngine({ databaseUrl: process.env.DATABASE_URL, schema: "convo" });
 * const store = new Store(engine);
 */
export async function openEngine(options: ConvoOptions): Promise<Engine> {
  if (options.databaseUrl) {
    const { openPostgres } = await import("./db/postgres.js");
    return openPostgres({
      databaseUrl: options.databaseUrl,
      schema: options.schema,
      poolSize: options.poolSize,
      onError: options.onBackgroundError,
    });
  }
  const { openPglite } = await import("./db/pglite.js");
  return openPglite({
    dataDir: options.pglite ? undefined : (options.dataDir ?? "./.convo-data"),
    client: options.pglite,
    schema: options.schema,
  });
}

/**
 * Convo: users, conversations, messages, state, context, assistant dialogs and sweeps over one store.
 * Get one from `openConvo`; the constructor is for a host that opened its own `Store`.
 * Open one per process and share it; `close()` it on shutdown.
 *
 * @example
 * const convo = await openConvo({ dataDir: "./.convo-data" });
 * const { user } = await convo.users.create({ externalId: "tg:480637186" });
 * const { conversation } = await convo.messages.appendToCurrent(user.id, { role: "user", content: "Привет!" });
 * const { run } = await convo.runs.start(user.id, conversation.id, { content: "Который час?" });
 * await convo.close();
 */
export class Convo {
  readonly lifecycle: LifecycleConfig;
  readonly users: UsersService;
  readonly conversations: ConversationsService;
  readonly messages: MessagesService;
  readonly state: StateService;
  readonly context: ContextService;
  readonly sweeps: SweepsService;
  /** Background runs: start, read, long-poll, follow, cancel (DESIGN.md §1.6). */
  readonly runs: RunsService;
  /** The sticker assistant's guided dialogs (`assistant_sessions`). */
  readonly dialogs: AssistantSessionsService;
  /** Operator reports over dialogs (across users). */
  readonly dialogAnalytics: AssistantAnalyticsService;
  /** Summaries of closed conversations and rolling summaries for token budgets. */
  readonly summaries: SummariesService;
  /** Full-text search over a user's own messages, titles and summaries. */
  readonly search: SearchService;
  /** Everything about a user as NDJSON, streamed in bounded memory. */
  readonly exports: ExportService;
  /** Erasing a user, with a receipt of the rows removed per table. */
  readonly erasure: ErasureService;
  /** Webhook subscriptions, the delivery log and the delivery pass. */
  readonly webhooks: WebhooksService;

  constructor(
    readonly store: Store,
    lifecycle: Partial<LifecycleConfig> = {},
    options: {
      runs?: RunsOptions;
      summaries?: SummariesOptions;
      webhooks?: WebhooksOptions;
    } = {},
  ) {
    this.lifecycle = { ...defaultLifecycle, ...lifecycle };
    this.users = new UsersService(store);
    this.conversations = new ConversationsService(store, this.lifecycle);
    // Late-bound: the run feed that announces messages is created below.
    this.messages = new MessagesService(store, this.lifecycle, (message) => this.runs.feed.publishMessage(message));
    this.state = new StateService(store, this.conversations);
    // The summarizer resolves its model when it runs: the registry is built with the
    // runs below, and a provider that is not configured becomes a stored warning.
    let models: ModelRegistry | undefined;
    const summaryModel = options.summaries?.model ?? process.env.CONVO_SUMMARY_MODEL;
    const summarizer: Summarizer =
      options.summaries?.summarizer ??
      (async (input) => {
        const id = summaryModel || models?.defaultModel || "offline";
        if (id === "offline" || !models) return extractiveSummary(input);
        return modelSummarizer(await models.resolve(id))(input);
      });
    this.summaries = new SummariesService(store, {
      summarizer,
      onError: (error) => store.background.report(error, { source: "summary" }),
    });
    this.conversations.onClosed = (userId, conversationId) => this.summaries.summarizeSoon(userId, conversationId);
    this.context = new ContextService(store, this.lifecycle, this.summaries);
    this.search = new SearchService(store, {
      conversationsPerBatch: this.lifecycle.sweepBatchSize,
      maxBatches: this.lifecycle.sweepMaxBatches,
    });
    const built = createRuns({
      store,
      lifecycle: this.lifecycle,
      messages: this.messages,
      context: this.context,
      // The search_history tool searches with full-text search (stems, titles, summaries).
      history: { search: (userId, query, options) => this.search.history(userId, query, options) },
      options: options.runs,
    });
    this.runs = built.runs;
    models = built.models;
    this.sweeps = new SweepsService(store, this.lifecycle, this.runs, this.summaries, this.search);
    this.dialogs = new AssistantSessionsService(store);
    this.dialogAnalytics = new AssistantAnalyticsService(store);
    this.exports = new ExportService(store);
    this.erasure = new ErasureService(store);
    this.webhooks = new WebhooksService(store, options.webhooks);
  }

  /**
   * Runs `fn` as one unit of work: every Convo call made inside it (in the same async
   * flow) joins this transaction, and a throw rolls all of it back.
   *
   * @example
   * await convo.transaction(async () => {
   *   await convo.messages.append(userId, conversationId, { role: "user", content: "hi" });
   *   await convo.state.patch(userId, conversationId, { step: 2 }, 1);
   * });
   */
  transaction<T>(fn: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    return this.store.transaction(fn, { ambient: true });
  }

  /**
   * Stops this node's runs (each ends `error` "interrupted: node shutting down", its
   * deltas kept), then closes the database (and releases the data directory).
   */
  async close(): Promise<void> {
    await this.runs.close();
    await this.store.close();
  }
}

/**
 * Opens Convo on PGlite (`dataDir`, default `./.convo-data`) or on PostgreSQL
 * (`databaseUrl`), applying migrations first.
 *
 * @example
 * const convo = await openConvo({ databaseUrl: process.env.DATABASE_URL });
 * const { user } = await convo.users.create({ externalId: "tg:480637186" });
 * await convo.messages.appendToCurrent(user.id, { role: "user", content: "Привет!" });
 */
export async function openConvo(options: ConvoOptions = {}): Promise<Convo> {
  const background = new BackgroundReporter(options.onBackgroundError);
  const engine = await openEngine({ ...options, onBackgroundError: background.report });
  let cursorSecret: Buffer;
  try {
    cursorSecret = options.cursorSecret ? Buffer.from(options.cursorSecret, "utf8") : await sharedSecret(engine.db, "cursor");
  } catch (error) {
    await engine.close();
    throw error;
  }
  const store = new Store(engine, { clock: options.clock, background, cursorSecret });
  return new Convo(store, options.lifecycle, {
    runs: options.runs,
    summaries: options.summaries,
    webhooks: options.webhooks,
  });
}

/**
 * `startServer()` — opens Convo, builds the app, listens, runs the sweep scheduler,
 * and shuts down gracefully within a deadline: stop accepting, close idle
 * connections, end event streams with a retry hint, answer long-polls, stop this
 * node's runs as interrupted, finish in-flight requests, stop the scheduler, close
 * the database — and when the deadline passes, close whatever is still open and say
 * what it was.
 */

import { type Convo, openConvo } from "@convo/core";
import type { StickerBot } from "@convo/telegram/bot";
import type { FastifyRequest } from "fastify";
import { buildApp } from "./app.js";
import { redactAccessToken } from "./chat/stream-tokens.js";
import type { ServerConfig } from "./config.js";
import type { App } from "./routes/types.js";
import { StartupError } from "./startup-error.js";

export { StartupError };

import { SweepScheduler } from "./scheduler.js";
import { WebhookScheduler } from "./webhook-scheduler.js";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * Pino options of the server: credentials never reach the logs — the Authorization
 * and Cookie headers are redacted, and a stream token in the URL (`?access_token=`)
 * is replaced before the request line is logged.
 */
export function loggerOptions(level: string) {
  return {
    level,
    redact: ["req.headers.authorization", "req.headers.cookie"],
    serializers: {
      req(req: { method: string; url: string; headers: Record<string, unknown>; ip?: string; socket?: { remotePort?: number } }) {
        return {
          method: req.method,
          url: redactAccessToken(req.url),
          headers: req.headers,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        };
      },
    },
  };
}

export interface RunningServer {
  app: App;
  convo: Convo;
  url: string;
  open: boolean;
  scheduler: SweepScheduler;
  /** The reference bot behind the webhook route, when TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are set. */
  bot?: StickerBot;
  /** The webhook delivery loop (runOnce for a pass now). */
  webhooksScheduler: WebhookScheduler;
  /**
   * Shuts down gracefully; after `shutdownTimeoutMs` every connection still open is
   * closed and what was open is logged. Answers whether the deadline was reached.
   */
  close(): Promise<{ timedOut: boolean }>;
  /** Reaches the shutdown deadline now (a second SIGTERM): open connections are closed, cleanup still runs. */
  hurry(): void;
  /** What is still open: connections, requests in flight, event streams, runs executing here. */
  openWork(): Promise<OpenWork>;
}

/** What a node still holds open (logged when a shutdown reaches its deadline). */
export interface OpenWork {
  connections: number;
  requests: string[];
  streams: number;
  runs: number;
}

function checkDatabaseUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new StartupError(`DATABASE_URL is not a URL: ${url.replace(/\/\/[^@]*@/, "//***@")}`, "BAD_DATABASE_URL", { cause });
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new StartupError(`DATABASE_URL must start with postgres:// (got ${parsed.protocol})`, "BAD_DATABASE_URL");
  }
}

/**
 * Opens Convo where `config` says (applying migrations), failing with one clear line:
 * a bad URL, an unreachable database, a data directory held by another process.
 */
export async function openDatabase(
  config: Pick<ServerConfig, "databaseUrl" | "dataDir" | "schema"> &
    Partial<Pick<ServerConfig, "poolSize" | "runs" | "cursorSecret">>,
): Promise<Convo> {
  if (config.databaseUrl) checkDatabaseUrl(config.databaseUrl);
  const { offlineChunkDelayMs, ...runs } = config.runs ?? {};
  const defined = Object.fromEntries(Object.entries(runs).filter(([, v]) => v !== undefined));
  try {
    return await openConvo({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      schema: config.schema,
      poolSize: config.poolSize,
      cursorSecret: config.cursorSecret,
      runs: {
        ...defined,
        models: offlineChunkDelayMs === undefined ? undefined : { offline: { chunkDelayMs: offlineChunkDelayMs } },
      },
    });
  } catch (error) {
    if ((error as { code?: string }).code === "DATA_DIRECTORY_LOCKED") throw error;
    const where = config.databaseUrl ? "the PostgreSQL at DATABASE_URL" : `the data directory ${config.dataDir}`;
    throw new StartupError(`Cannot open ${where}: ${(error as Error).message}`, "DATABASE_UNAVAILABLE", { cause: error });
  }
}

/**
 * Runs the HTTP API as `convo serve` does: opens Convo (unless `options.convo` is
 * given, which then stays open on `close()`), listens, starts the sweeps. Throws
 * StartupError for a bad database URL, a busy port or an open API on a public host.
 *
 * @example
 * const server = await startServer(configFromEnv());
 * console.log(`Convo API on ${server.url}`);
 * process.once("SIGTERM", () => void server.close());
 */
export async function startServer(config: ServerConfig, options: { convo?: Convo } = {}): Promise<RunningServer> {
  const logger = loggerOptions(config.logLevel);
  const convo = options.convo ?? (await openDatabase(config));
  const { app, metrics, open, sse, streams } = await buildApp({
    convo,
    logger,
    logRequests: config.logRequests,
    validateResponses: config.validateResponses,
    bodyLimit: config.bodyLimit,
    jwtSecret: config.jwtSecret,
    streamTokenSecret: config.streamTokenSecret,
    jwksUrl: config.jwksUrl,
    jwtIssuer: config.jwtIssuer,
    jwtAudience: config.jwtAudience,
    rateLimitUser: config.rateLimitUser,
    rateLimitAdmin: config.rateLimitAdmin,
    corsOrigins: config.corsOrigins,
    tokenMaxLifetimeMs: config.tokenMaxLifetimeMs,
    authFailureLimit: config.authFailureLimit,
    maxStreamsPerUser: config.maxStreamsPerUser,
    maxStreamsPerNode: config.maxStreamsPerNode,
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
  });
  // Requests in flight, to say what held a shutdown up (described only then). Hooks on
  // every request are plain callbacks: an async hook costs a promise per request.
  const inFlight = new Set<FastifyRequest>();
  app.addHook("onRequest", (request, reply, done) => {
    inFlight.add(request);
    reply.raw.once("close", () => inFlight.delete(request));
    done();
  });
  const telegram = config.telegram;
  // Loaded only when configured: grammY and the bot stay out of a plain API server.
  const bot = telegram?.webhookSecret
    ? (await import("./telegram.js")).mountWebhook(app, convo, { ...telegram, webhookSecret: telegram.webhookSecret })
    : undefined;
  if (telegram && !bot) app.log.warn("TELEGRAM_BOT_TOKEN is set but TELEGRAM_WEBHOOK_SECRET is not: the webhook route is off");
  const host = config.host ?? (open ? "127.0.0.1" : "0.0.0.0");
  if (open && !LOOPBACK.has(host)) {
    await app.close();
    if (!options.convo) await convo.close();
    throw new StartupError(
      `Refusing to listen on ${host} with no credentials configured: create an admin key (convo keys create) or set CONVO_JWT_SECRET, or listen on 127.0.0.1`,
      "OPEN_ON_PUBLIC_HOST",
    );
  }
  try {
    await app.listen({ host, port: config.port });
  } catch (error) {
    await app.close();
    if (!options.convo) await convo.close();
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE")
      throw new StartupError(`Port ${config.port} on ${host} is already in use (try --port)`, "PORT_IN_USE", { cause: error });
    throw error;
  }
  if (open)
    app.log.warn("No API key or token secret configured: the API is OPEN to anyone on this machine (listening on loopback only)");

  // The bot expires idle dialogs first, so it can tell each user (the sweep would abandon them silently).
  const scheduler = new SweepScheduler(convo, {
    intervalMs: config.sweepIntervalMs,
    log: app.log,
    metrics,
    beforeSweep: bot ? () => bot.expireDialogs() : undefined,
  });
  scheduler.start();
  const webhooks = new WebhookScheduler(convo, { intervalMs: config.webhookIntervalMs ?? 2_000, log: app.log });
  webhooks.start();
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;

  const openWork = async (): Promise<OpenWork> => ({
    connections: await new Promise<number>((resolve) => app.server.getConnections((_error, count) => resolve(count ?? 0))),
    requests: [...inFlight].map((request) => `${request.method} ${request.url.split("?")[0]} (${request.id})`),
    streams: sse.size + streams.open,
    runs: convo.runs.stats.executing,
  });

  const deadlineMs = config.shutdownTimeoutMs ?? 10_000;
  let reachDeadline: () => void = () => {};
  const deadline = new Promise<"deadline">((resolve) => {
    reachDeadline = () => resolve("deadline");
  });
  let closing: Promise<{ timedOut: boolean }> | undefined;
  const close = () => {
    closing ??= (async () => {
      const timer = setTimeout(reachDeadline, deadlineMs);
      // The runs stop first (each ends as interrupted, its deltas kept), at the same
      // time as the HTTP side: stop accepting, close idle connections, end streams
      // with a retry hint, answer long-polls, wait for requests in flight.
      const graceful = (async () => {
        await Promise.all([app.close(), options.convo ? undefined : convo.runs.close()]);
        await scheduler.stop();
        await webhooks.stop();
        if (!options.convo) await convo.close();
      })();
      const outcome = await Promise.race([graceful.then(() => "done" as const), deadline]);
      clearTimeout(timer);
      if (outcome === "done") return { timedOut: false };
      app.log.warn({ open: await openWork() }, "shutdown deadline (%d ms) reached: closing what is still open", deadlineMs);
      app.server.closeAllConnections();
      // Cleanup goes on (closing the database ends the pool); the caller exits anyway.
      await Promise.race([graceful.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      return { timedOut: true };
    })();
    return closing;
  };
  const hurry = () => {
    void close();
    reachDeadline();
  };
  return { app, convo, url, open, scheduler, webhooksScheduler: webhooks, bot, close, hurry, openWork };
}

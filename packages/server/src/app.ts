/**
 * The Fastify application: plugins, auth, routes and the OpenAPI document. Takes an
 * open Convo; `server.ts` owns listening, the scheduler and shutdown.
 */
import { randomUUID } from "node:crypto";
import { BadRequestError, type Convo } from "@convo/core";
import { ApiKeysService } from "@convo/core/internal";
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import { validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { TokenVerifier } from "./auth/tokens.js";
import { chatRoutes } from "./chat/routes.js";
import { StreamTokens } from "./chat/stream-tokens.js";
import { envFlag } from "./config.js";
import { completeOperation } from "./openapi.js";
import { authPlugin, isApiRoute } from "./plugins/auth.js";
import { registerErrorHandler } from "./plugins/error-handler.js";
import { Metrics } from "./plugins/metrics.js";
import { isAppNavigation, registerWeb } from "./plugins/web.js";
import { contextRoutes } from "./routes/context.js";
import { conversationRoutes } from "./routes/conversations.js";
import { dialogRoutes } from "./routes/dialogs.js";
import { memoryRoutes } from "./routes/memory.js";
import { messageRoutes } from "./routes/messages.js";
import { opsRoutes } from "./routes/ops.js";
import { runRoutes } from "./routes/runs.js";
import { stateRoutes } from "./routes/state.js";
import type { App } from "./routes/types.js";
import { userRoutes } from "./routes/users.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { responseSerializer } from "./serializer.js";
import { SseRegistry } from "./sse.js";
import { StreamLimiter } from "./stream-limits.js";

export interface AppOptions {
  convo: Convo;
  bodyLimit?: number;
  jwtSecret?: string;
  jwksUrl?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  rateLimitUser?: number;
  rateLimitAdmin?: number;
  corsOrigins?: string[];
  /** Longest accepted end-user token lifetime in ms (default 7 days). */
  tokenMaxLifetimeMs?: number;
  /** Failed authentications per client address per minute (default 30). */
  authFailureLimit?: number;
  /** Open streams and long-polls per user (default 16) and per node (default 2,000). */
  maxStreamsPerUser?: number;
  maxStreamsPerNode?: number;
  /** Whole-request receive timeout (default 30 s), header timeout (10 s), idle keep-alive (5 s), socket inactivity (60 s). */
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Pino logger options, or false for none. */
  logger?: FastifyServerOptions["logger"];
  /**
   * Check every response strictly against its route's schema (default false: see
   * serializer.ts). The test suites turn it on (`CONVO_VALIDATE_RESPONSES=true`).
   */
  validateResponses?: boolean;
  /** Log every request and response (default false: see `ServerConfig.logRequests`). */
  logRequests?: boolean;
  metrics?: Metrics;
  /** Key material of stream tokens (default: `jwtSecret`; without either, a random per-process key). */
  streamTokenSecret?: string;
  /** Force open mode on or off; by default open = no API key and no token secret. */
  open?: boolean;
  /** The built web app served at `/` (default: `@convo/web`'s `dist/`); false = none. */
  webRoot?: string | false;
}

export interface BuiltApp {
  app: App;
  metrics: Metrics;
  /** Open event streams (ended with a retry hint on shutdown). */
  sse: SseRegistry;
  /** Open streams and long-polls, counted against their caps. */
  streams: StreamLimiter;
  /** True when the API needs no credentials (loopback only). */
  open: boolean;
}

/**
 * Builds the HTTP application around `convo` (not listening yet): for tests with
 * `app.inject`, or to listen yourself; `startServer` does the rest of a deployment.
 *
 * @example
 * const convo = await openConvo({ dataDir: "memory://" });
 * const { app } = await buildApp({ convo, jwtSecret: process.env.CONVO_JWT_SECRET });
 * const res = await app.inject({ method: "GET", url: "/healthz" }); // 200 { status: "ok" }
 */
export async function buildApp(options: AppOptions): Promise<BuiltApp> {
  const { convo } = options;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout || Number.POSITIVE_INFINITY);
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Node measures both from the first byte of a request until it is fully received,
    // so a trickled header or body is cut (408) while an event stream or a long-poll,
    // whose request arrived whole, is not. Node checks them every
    // connectionsCheckingInterval (30 s by default): a tenth of the shorter timeout
    // keeps the cut close to the configured time.
    requestTimeout,
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(headersTimeout, requestTimeout || headersTimeout) / 10),
    },
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    connectionTimeout: idleTimeoutMs,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
    },
    // SSE and long-polls are closed by the server itself on shutdown.
    forceCloseConnections: "idle",
    routerOptions: { ignoreTrailingSlash: true },
    // A malformed URL (`/v1/conversations/%FF`) is refused before routing, out of the
    // error handler's reach: answer it in the API's error shape all the same.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      reply.status(400).send({ error: { code: "INVALID_URL", message: error.message } });
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(
    responseSerializer({
      // Tests build apps directly as well as through startServer: the variable reaches both.
      validate: options.validateResponses ?? envFlag(process.env.CONVO_VALIDATE_RESPONSES),
    }),
  );
  // A browser opening one of the web app's own routes (`/c/<id>`) gets the app.
  let serveApp = false;
  registerErrorHandler(app, {
    fallback: (request, reply) => {
      if (!serveApp || !isAppNavigation(request.method, request.url, request.headers.accept)) return false;
      reply.header("cache-control", "no-cache").sendFile("index.html");
      return true;
    },
  });

  // Fastify decodes a JSON body leniently: invalid UTF-8 would be stored as U+FFFD.
  // Refuse it instead, so text is stored exactly as sent or not at all.
  const parseJson = app.getDefaultJsonParser("error", "error");
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  app.removeContentTypeParser("application/json");
  // application/merge-patch+json (RFC 7396) is what a client sends to PATCH the state.
  app.addContentTypeParser(["application/json", "application/merge-patch+json"], { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new BadRequestError("The body is not valid UTF-8", "INVALID_JSON"), undefined);
      return;
    }
    parseJson(request, text, done);
  });

  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });

  const metrics = options.metrics ?? new Metrics();
  metrics.observeStore(convo.store);
  metrics.register(app);

  // Failures nobody waits for (after-commit hooks, NOTIFY, LISTEN, pool connections,
  // heartbeats, run tails, runs) are logged with where they happened and counted.
  const unsubscribe = convo.store.background.subscribe((error, context) => {
    metrics.backgroundErrors.inc({ source: context.source });
    app.log.error({ err: error, ...context }, "background failure (%s)", context.source);
  });
  app.addHook("onClose", async () => unsubscribe());

  const apiKeys = new ApiKeysService(convo.store);
  const tokens = new TokenVerifier({
    secret: options.jwtSecret,
    jwksUrl: options.jwksUrl,
    issuer: options.jwtIssuer,
    audience: options.jwtAudience,
    maxLifetimeMs: options.tokenMaxLifetimeMs,
  });
  const open = options.open ?? !(tokens.enabled || (await apiKeys.activeHashes()).length > 0);

  if (options.corsOrigins?.length) {
    await app.register(cors, {
      origin: options.corsOrigins.includes("*") ? true : options.corsOrigins,
      exposedHeaders: ["etag", "x-request-id"],
    });
  }
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Convo API", version: "1.0.0", description: "Durable memory and run engine for AI chat assistants" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: completeOperation,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  const streamTokens = new StreamTokens(options.streamTokenSecret ?? options.jwtSecret);
  await app.register(authPlugin, { apiKeys, tokens, open, streamTokens, failureLimit: options.authFailureLimit });
  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    // Per principal: each admin key and each end user has its own budget.
    max: (request) => (request.principal?.kind === "user" ? (options.rateLimitUser ?? 600) : (options.rateLimitAdmin ?? 120_000)),
    keyGenerator: (request) => {
      const p = request.principal;
      if (!p) return `ip:${request.ip}`;
      return p.kind === "user" ? `user:${p.userId}` : `key:${p.keyId ?? "open"}`;
    },
    // Decided by the matched route, like authentication (never by the raw URL).
    allowList: (request) => !isApiRoute(request),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: {
        code: "RATE_LIMITED",
        message: `Rate limit of ${context.max} requests per minute reached; retry in ${context.after}`,
      },
    }),
  });

  // Open event streams end when the server closes (they would hold close() forever),
  // and long-polls answer at once.
  const sse = new SseRegistry(metrics);
  const streams = new StreamLimiter({
    perUser: options.maxStreamsPerUser ?? 16,
    perNode: options.maxStreamsPerNode ?? 2000,
  });
  const shutdown = new AbortController();
  app.addHook("preClose", async () => {
    shutdown.abort();
    // A retry hint first: EventSource reconnects after it (to another node).
    sse.closeAll({ retryMs: 1000 });
  });

  const webRoot = options.webRoot ?? (await import("@convo/web")).webRoot;
  if (webRoot !== false) serveApp = await registerWeb(app, { root: webRoot });

  const deps = { convo };
  await app.register(async (scope) => {
    const typed = scope.withTypeProvider<ZodTypeProvider>();
    await opsRoutes(typed, deps);
    await userRoutes(typed, deps);
    await conversationRoutes(typed, deps);
    await messageRoutes(typed, deps);
    await stateRoutes(typed, deps);
    await contextRoutes(typed, deps);
    await runRoutes(typed, { ...deps, sse, shutdown: shutdown.signal, streams, idleTimeoutMs });
    await dialogRoutes(typed, deps);
    await chatRoutes(typed, { ...deps, streamTokens, shutdown: shutdown.signal, streams });
    await memoryRoutes(typed, deps);
    await webhookRoutes(typed, deps);
  });
  return { app, metrics, open, sse, streams };
}

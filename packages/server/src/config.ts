/**
 * The server's settings: from the environment, overridden by CLI flags. Every option
 * has a default that runs on one laptop with no setup.
 */
export interface ServerConfig {
  /** PostgreSQL URL; absent = embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  schema?: string;
  /** PostgreSQL connections per node (default 10). */
  poolSize?: number;
  host?: string;
  port: number;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit: number;
  /** HS256 secret for end-user tokens. */
  jwtSecret?: string;
  /** Key material of stream tokens (`?access_token=`); default `jwtSecret`. Set it on every node. */
  streamTokenSecret?: string;
  /** JWKS URL for end-user tokens signed elsewhere. */
  jwksUrl?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  /** Requests per minute per end user / per admin key. */
  rateLimitUser: number;
  rateLimitAdmin: number;
  /** Allowed CORS origins; empty = CORS off. */
  corsOrigins: string[];
  /** Key that signs list cursors (default: generated once and kept in the database). */
  cursorSecret?: string;
  /** Longest lifetime (exp − now) an end-user token may have, in ms (default 7 days); `exp` is required. */
  tokenMaxLifetimeMs?: number;
  /** Failed authentications per client address per minute before 429 (default 30). */
  authFailureLimit?: number;
  /** Open event streams and long-polls per user (default 16) and per node (default 2,000); 429 beyond. */
  maxStreamsPerUser?: number;
  maxStreamsPerNode?: number;
  /** Time to receive a whole request, headers and body (default 30 s); SSE and long-polls are not affected. */
  requestTimeoutMs?: number;
  /** Time to receive the request headers (default 10 s). */
  headersTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this long (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** A connection with no traffic in either direction is closed after this long (default 60 s; long-polls excepted). */
  idleTimeoutMs?: number;
  /** After SIGTERM, exit within this long whatever is still open (default 10 s). */
  shutdownTimeoutMs?: number;
  /** Run the lifecycle sweeps every this many ms (0 = never). */
  sweepIntervalMs: number;
  /** Run a webhook delivery pass every this many ms (default 2000; 0 = never). */
  webhookIntervalMs?: number;
  logLevel: string;
  /** The reference Telegram bot's webhook (mounted with a token and a webhook secret). */
  telegram?: TelegramConfig;
  /**
   * Log every request (pino's "incoming request" / "request completed" lines). Off by
   * default (`CONVO_LOG_REQUESTS=true` turns it on): two synchronous log lines per
   * request cost the server more CPU than the request's own work (issue 10). Errors,
   * warnings and failed requests are logged either way.
   */
  logRequests?: boolean;
  /**
   * Check every response strictly against its schema (`CONVO_VALIDATE_RESPONSES=true`;
   * off by default, on in the test suites: see serializer.ts).
   */
  validateResponses?: boolean;
  /** Background runs on this node (defaults in docs/runs.md). */
  runs?: {
    nodeId?: string;
    maxRunsPerNode?: number;
    maxRunsPerUser?: number;
    leaseMs?: number;
    heartbeatMs?: number;
    /** Fit each run's context into this many tokens (docs/memory.md). */
    contextTokenBudget?: number;
    /** Pace of the built-in offline model's stream, ms per chunk. */
    offlineChunkDelayMs?: number;
  };
}

const int = (value: string | undefined, fallback: number) => {
  const n = value === undefined || value === "" ? Number.NaN : Number(value);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
};

const optionalInt = (value: string | undefined) => {
  const n = int(value, -1);
  return n >= 0 ? n : undefined;
};

/**
 * An on/off environment variable: on when it is `true` or `1`.
 *
 * @example
 * envFlag(process.env.CONVO_LOG_REQUESTS); // true for CONVO_LOG_REQUESTS=1
 */
export const envFlag = (value: string | undefined): boolean => value === "true" || value === "1";

/**
 * Settings from environment variables (CONVO_*, DATABASE_URL, PORT), each with a
 * default; the CLI lays its flags over them.
 *
 * @example
 * const server = await startServer({ ...configFromEnv(), port: 9000 });
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.CONVO_DATA_DIR || "./.convo-data",
    schema: env.CONVO_SCHEMA || undefined,
    poolSize: env.CONVO_POOL_SIZE ? int(env.CONVO_POOL_SIZE, 10) : undefined,
    host: env.HOST || undefined,
    port: int(env.PORT, 8787),
    bodyLimit: int(env.CONVO_BODY_LIMIT, 1024 * 1024),
    jwtSecret: env.CONVO_JWT_SECRET || undefined,
    streamTokenSecret: env.CONVO_STREAM_TOKEN_SECRET || undefined,
    jwksUrl: env.CONVO_JWKS_URL || undefined,
    jwtIssuer: env.CONVO_JWT_ISSUER || undefined,
    jwtAudience: env.CONVO_JWT_AUDIENCE || undefined,
    rateLimitUser: int(env.CONVO_RATE_LIMIT_USER, 600),
    rateLimitAdmin: int(env.CONVO_RATE_LIMIT_ADMIN, 120_000),
    corsOrigins: (env.CONVO_CORS_ORIGINS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    cursorSecret: env.CONVO_CURSOR_SECRET || undefined,
    tokenMaxLifetimeMs: int(env.CONVO_TOKEN_MAX_LIFETIME_MS, 7 * 24 * 3600 * 1000),
    authFailureLimit: int(env.CONVO_AUTH_FAILURE_LIMIT, 30),
    maxStreamsPerUser: int(env.CONVO_MAX_STREAMS_PER_USER, 16),
    maxStreamsPerNode: int(env.CONVO_MAX_STREAMS_PER_NODE, 2000),
    requestTimeoutMs: int(env.CONVO_REQUEST_TIMEOUT_MS, 30_000),
    headersTimeoutMs: int(env.CONVO_HEADERS_TIMEOUT_MS, 10_000),
    keepAliveTimeoutMs: int(env.CONVO_KEEP_ALIVE_TIMEOUT_MS, 5_000),
    idleTimeoutMs: int(env.CONVO_IDLE_TIMEOUT_MS, 60_000),
    shutdownTimeoutMs: int(env.CONVO_SHUTDOWN_TIMEOUT_MS, 10_000),
    sweepIntervalMs: int(env.CONVO_SWEEP_INTERVAL_MS, 60_000),
    webhookIntervalMs: int(env.CONVO_WEBHOOK_INTERVAL_MS, 2_000),
    logLevel: env.CONVO_LOG_LEVEL || "info",
    telegram: telegramFromEnv(env),
    logRequests: envFlag(env.CONVO_LOG_REQUESTS),
    validateResponses: envFlag(env.CONVO_VALIDATE_RESPONSES),
    runs: {
      nodeId: env.CONVO_NODE_ID || undefined,
      maxRunsPerNode: optionalInt(env.CONVO_MAX_RUNS_PER_NODE),
      maxRunsPerUser: optionalInt(env.CONVO_MAX_RUNS_PER_USER),
      leaseMs: optionalInt(env.CONVO_RUN_LEASE_MS),
      heartbeatMs: optionalInt(env.CONVO_RUN_HEARTBEAT_MS),
      contextTokenBudget: optionalInt(env.CONVO_CONTEXT_TOKEN_BUDGET),
      offlineChunkDelayMs: optionalInt(env.CONVO_OFFLINE_CHUNK_DELAY_MS),
    },
  };
}

/** The reference Telegram bot (see telegram.ts). */
export interface TelegramConfig {
  token: string;
  apiRoot?: string;
  webhookSecret?: string;
  env?: string;
}

/** The bot's settings from the environment, or undefined without a token. */
export function telegramFromEnv(env: NodeJS.ProcessEnv = process.env): TelegramConfig | undefined {
  if (!env.TELEGRAM_BOT_TOKEN) return undefined;
  return {
    token: env.TELEGRAM_BOT_TOKEN,
    apiRoot: env.TELEGRAM_API_ROOT || undefined,
    webhookSecret: env.TELEGRAM_WEBHOOK_SECRET || undefined,
    env: env.CONVO_BOT_ENV || undefined,
  };
}

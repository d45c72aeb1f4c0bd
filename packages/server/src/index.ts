/** @convo/server — the HTTP API and the `convo` CLI. */
export { type AppOptions, type BuiltApp, buildApp } from "./app.js";
export type { Principal } from "./auth/principal.js";
export { mintToken, TokenVerifier } from "./auth/tokens.js";
export { configFromEnv, type ServerConfig } from "./config.js";
export { Metrics } from "./plugins/metrics.js";
export { SweepScheduler } from "./scheduler.js";
export { type RunningServer, StartupError, startServer } from "./server.js";

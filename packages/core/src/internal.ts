/**
 * `@convo/core/internal` — building blocks for Convo's own packages (the HTTP server,
 * the CLI, the benchmarks): the store and its unit of work, the engines, the run
 * event bus, cursors and the dialog analytics SQL. No compatibility promise: an
 * application uses `@convo/core`.
 *
 * @example
 * import { ApiKeysService, mapDatabaseError } from "@convo/core/internal";
 */

export { BackgroundReporter } from "./background/index.js";
export { openEngine } from "./convo.js";
export { decodeCursor, encodeCursor, type Page } from "./cursor.js";
export type { Db, Engine, EngineKind } from "./db/engine.js";
export { isConnectionError, isUniqueViolation, mapDatabaseError } from "./db/pg-errors.js";
export * as tables from "./db/schema.js";
export { type AnalyticsRange, AssistantSessionsService, dialogAnalyticsSql } from "./dialogs/index.js";
export { ApiKeysService, hashApiKey } from "./keys/index.js";
export { ConversationFeed, type Notice, notifyChannel, RunEventBus, RunsService } from "./runs/index.js";
export { sharedSecret } from "./secrets/index.js";
export { Store, type StoreOptions, UnitOfWork } from "./store.js";
export { assertJson, assertText, assertTitle, assertUuid, MAX_TITLE_LENGTH, textProblem } from "./validation.js";

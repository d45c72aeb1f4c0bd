/**
 * @convo/core — Convo as a library: conversations, gap-free messages, context for the
 * model, background runs and guided dialogs, on embedded PGlite or on PostgreSQL.
 *
 * @example
 * import { openConvo } from "@convo/core";
 *
 * const convo = await openConvo({ databaseUrl: process.env.DATABASE_URL }); // or { dataDir: "./.convo-data" }
 * const { user } = await convo.users.create({ externalId: "tg:480637186" });
 * await convo.messages.appendToCurrent(user.id, { role: "user", content: "Привет!" });
 * const context = await convo.context.load(user.id);
 */

// ── Advanced: settings, models, tools ─────────────────────────────────────────
export type { BackgroundContext, BackgroundErrorHandler, BackgroundSource } from "./background/index.js";
export { defaultLifecycle, type LifecycleConfig } from "./config.js";
// ── Long-term memory: summaries, token budgets, search, export and erasure, webhooks ──
export { encodingFor, fitToBudget, profileText, sessionLine, tokenCounter } from "./context/index.js";
export { dateTitle, heuristicTitle, stripMarkup } from "./conversations/titles.js";
// ── Commonly used ──────────────────────────────────────────────────────────────
export { Convo, type ConvoOptions, openConvo } from "./convo.js";
// ── Moving dialogs out of a legacy `sessions` table ───────────────────────────
export {
  importLegacyDialogs,
  inspectLegacyTable,
  type LegacyImportOptions,
  type LegacyImportResult,
  type LegacyTableShape,
  legacyColumnDropSql,
} from "./dialogs/legacy-import.js";
export {
  type LegacySessionRow,
  legacyImportKey,
  mapLegacyRow,
  SKIP_REASONS as LEGACY_SKIP_REASONS,
} from "./dialogs/legacy-row.js";
export { type LegacySource, pgLegacySource, pgliteLegacySource } from "./dialogs/legacy-source.js";
export { ERASED_TABLES, NON_USER_TABLES } from "./erasure/index.js";
export {
  BadRequestError,
  ConflictError,
  ConvoError,
  DatabaseUnavailableError,
  DataDirectoryLockedError,
  type ErrorDetails,
  type ErrorOptions,
  isConvoError,
  NodeShuttingDownError,
  NotFoundError,
  RateLimitError,
  RunFailure,
  type StopReason,
  UnauthorizedError,
  ValidationError,
} from "./errors.js";
export { EXPORT_SECTIONS } from "./export/index.js";
export { defaultRunsConfig, type RunsConfig } from "./runs/config.js";
export type { ModelsOptions } from "./runs/models.js";
export { OfflineModel, type OfflineModelOptions } from "./runs/offline-model.js";
export type { RunsOptions } from "./runs/setup.js";
export { builtInTools, type RunToolContext, type RunTools } from "./runs/tools.js";
export { isTerminal, TERMINAL_EVENT_TYPES } from "./runs/types.js";
export { MAX_SEARCH_QUERY, parseSearchQuery, snippetText } from "./search/index.js";
export { mergePatch } from "./state/service.js";
export { extractiveSummary, MAX_SUMMARY_LENGTH, modelSummarizer, SummaryFailedError } from "./summaries/index.js";
// Every record, input and result shape (also importable alone from `@convo/core/types`).
export type * from "./types.js";
export { isUuid } from "./validation.js";
export { DEFAULT_RETRY_SCHEDULE_MS, WEBHOOK_EVENT_TYPES } from "./webhooks/index.js";

// Building blocks for Convo's own packages (the server, the bench) are in `@convo/core/internal`.

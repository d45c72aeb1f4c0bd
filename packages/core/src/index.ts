/**
 * @convo/core — Convo's store as a library.
 *
 * Commonly used: `openConvo`, the `Convo` services, the error classes.
 */

// Building blocks, for extensions and the server.
export {
  type BackgroundContext,
  type BackgroundErrorHandler,
  BackgroundReporter,
  type BackgroundSource,
} from "./background/index.js";
export { defaultLifecycle, type LifecycleConfig } from "./config.js";
export { Convo, type ConvoOptions, openConvo, openEngine } from "./convo.js";
export { decodeCursor, encodeCursor } from "./cursor.js";
export type { Db, Engine, EngineKind } from "./db/engine.js";
export { isConnectionError, isUniqueViolation, mapDatabaseError } from "./db/pg-errors.js";
export * as tables from "./db/schema.js";
export {
  importLegacyDialogs,
  type LegacyImportOptions,
  type LegacyImportResult,
  legacyColumnDropSql,
} from "./dialogs/legacy-import.js";
export {
  type LegacySessionRow,
  legacyImportKey,
  mapLegacyRow,
  SKIP_REASONS as LEGACY_SKIP_REASONS,
} from "./dialogs/legacy-row.js";
export { type LegacySource, pgLegacySource, pgliteLegacySource } from "./dialogs/legacy-source.js";
export {
  DIALOG_MAX_ERRORS,
  DIALOG_STATUSES,
  type Dialog,
  type DialogCloseStatus,
  type DialogMessage,
  type DialogRole,
  type DialogStatus,
  MAX_DIALOG_STEP,
} from "./dialogs/types.js";
export { type DialogUpdate, MAX_APPEND_MESSAGES, MAX_GOAL_LENGTH, MAX_SLOT_LENGTH } from "./dialogs/validation.js";
export {
  BadRequestError,
  ConflictError,
  ConvoError,
  DatabaseUnavailableError,
  DataDirectoryLockedError,
  isConvoError,
  NotFoundError,
  RateLimitError,
  ValidationError,
} from "./errors.js";
export { type AnalyticsRange, dialogAnalyticsSql } from "./repositories/assistant-analytics.js";
export type { RunsConfig } from "./runs/config.js";
export { defaultRunsConfig } from "./runs/config.js";
export { ConversationFeed, type ConversationFeedItem, type ConversationFollowOptions } from "./runs/conversation-feed.js";
export { RunFailure, type StopReason } from "./runs/executor.js";
export { ModelRegistry, type ModelsOptions } from "./runs/models.js";
export { type Notice, notifyChannel, RunEventBus } from "./runs/notifier.js";
export { OfflineModel, type OfflineModelOptions } from "./runs/offline-model.js";
export type { RunsOptions } from "./runs/setup.js";
export { builtInTools, type RunToolContext, type RunTools } from "./runs/tools.js";
export {
  type CancelledEvent,
  type DeltaEvent,
  type DoneEvent,
  type ErrorEvent,
  isTerminal,
  type Run,
  type RunEvent,
  type RunEventPage,
  type RunEventType,
  type RunStatus,
  type RunToolChoice,
  type RunUsage,
  TERMINAL_EVENT_TYPES,
  type ThinkingEvent,
  type ToolCallEvent,
} from "./runs/types.js";
export { type ApiKey, ApiKeysService, hashApiKey } from "./services/api-keys.js";
export {
  AssistantAnalyticsService,
  checkAnalyticsFilter,
  type DialogAnalyticsFilter,
  type DialogFunnel,
  type DialogReport,
  type DialogStepStats,
  type DialogTopFilter,
  type GoalCount,
  type StyleCount,
  type StyleEmotionCount,
} from "./services/assistant-analytics.js";
export { AssistantSessionsService, type CreateDialogInput, type ModelErrorResult } from "./services/assistant-sessions.js";
export type { Context, ContextMessage, LoadContextOptions, SessionHistoryItem } from "./services/context.js";
export type {
  ConversationDetail,
  ConversationList,
  CreateConversationInput,
  ListConversationsOptions,
} from "./services/conversations.js";
export type { AppendResult, AppendToCurrentInput, AppendToCurrentResult, MessageInput } from "./services/messages.js";
export {
  type EventsOptions,
  type FollowOptions,
  NodeShuttingDownError,
  RunsService,
  type StartRunInput,
  type StartRunResult,
  type WaitOptions,
} from "./services/runs.js";
export type { ConversationState } from "./services/state.js";
export { mergePatch } from "./services/state.js";
export type { RunLeaseSweeper, SweepResult } from "./services/sweeps.js";
export type { UserInput } from "./services/users.js";
export { Store, type StoreOptions, UnitOfWork } from "./store.js";
export { dateTitle, heuristicTitle, stripMarkup } from "./titles.js";
export type {
  CloseReason,
  Conversation,
  ConversationStatus,
  Message,
  Page,
  Role,
  StatusFilter,
  TitleSource,
  User,
} from "./types.js";
export { assertJson, assertText, assertTitle, assertUuid, isUuid, MAX_TITLE_LENGTH, textProblem } from "./validation.js";

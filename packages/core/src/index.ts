/**
 * @convo/core — Convo's store as a library.
 *
 * Commonly used: `openConvo`, the `Convo` services, the error classes.
 */

// Building blocks, for extensions and the server.
export { defaultLifecycle, type LifecycleConfig } from "./config.js";
export { Convo, type ConvoOptions, openConvo, openEngine } from "./convo.js";
export { decodeCursor, encodeCursor } from "./cursor.js";
export type { Db, Engine, EngineKind } from "./db/engine.js";
export { isUniqueViolation, mapDatabaseError } from "./db/pg-errors.js";
export * as tables from "./db/schema.js";
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
export type { Context, ContextMessage, LoadContextOptions, SessionHistoryItem } from "./services/context.js";
export type {
  ConversationDetail,
  ConversationList,
  CreateConversationInput,
  ListConversationsOptions,
} from "./services/conversations.js";
export type { AppendResult, AppendToCurrentInput, AppendToCurrentResult, MessageInput } from "./services/messages.js";
export type { ConversationState } from "./services/state.js";
export { mergePatch } from "./services/state.js";
export type { SweepResult } from "./services/sweeps.js";
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

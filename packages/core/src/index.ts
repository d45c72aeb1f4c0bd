/**
 * @convo/core — Convo's store as a library.
 *
 * Commonly used: `openConvo`, the `Convo` services, the error classes.
 */
export { Convo, type ConvoOptions, openConvo, openEngine } from "./convo.js";
export {
  BadRequestError,
  ConflictError,
  ConvoError,
  DataDirectoryLockedError,
  DatabaseUnavailableError,
  NotFoundError,
  RateLimitError,
  ValidationError,
  isConvoError,
} from "./errors.js";
export type { Conversation, ConversationStatus, Message, Page, Role, User, CloseReason, StatusFilter, TitleSource } from "./types.js";
export type { CreateConversationInput, ConversationDetail, ConversationList, ListConversationsOptions } from "./services/conversations.js";
export type { AppendResult, AppendToCurrentInput, AppendToCurrentResult, MessageInput } from "./services/messages.js";
export type { ConversationState } from "./services/state.js";
export { mergePatch } from "./services/state.js";
export type { Context, ContextMessage, LoadContextOptions, SessionHistoryItem } from "./services/context.js";
export type { SweepResult } from "./services/sweeps.js";
export type { UserInput } from "./services/users.js";

// Building blocks, for extensions and the server.
export { type LifecycleConfig, defaultLifecycle } from "./config.js";
export { Store, UnitOfWork, type StoreOptions } from "./store.js";
export type { Db, Engine, EngineKind } from "./db/engine.js";
export * as tables from "./db/schema.js";
export { dateTitle, heuristicTitle, stripMarkup } from "./titles.js";
export { decodeCursor, encodeCursor } from "./cursor.js";
export { assertJson, assertText, assertTitle, assertUuid, isUuid, textProblem, MAX_TITLE_LENGTH } from "./validation.js";
export { mapDatabaseError, isUniqueViolation } from "./db/pg-errors.js";

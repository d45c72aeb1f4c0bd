/** Background runs: one model turn each, every event stored, resumable from any node. */
export { defaultRunsConfig, type RunsConfig } from "./config.js";
export { ConversationFeed, type ConversationFeedItem, type ConversationFollowOptions } from "./conversation-feed.js";
export { ModelRegistry, type ModelsOptions } from "./models.js";
export { type MessageNotice, type Notice, notifyChannel, RunEventBus } from "./notifier.js";
export { OfflineModel, type OfflineModelOptions } from "./offline-model.js";
export type { RunContextLoader, RunMessageWriter } from "./ports.js";
export { RunsRepository } from "./repository.js";
export * from "./service.js";
export { createRuns, type RunsOptions } from "./setup.js";
export { builtInTools, type RunToolContext, type RunTools } from "./tools.js";
export * from "./types.js";

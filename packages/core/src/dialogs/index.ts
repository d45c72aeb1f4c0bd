/** The sticker assistant's guided dialogs (`assistant_sessions`), their analytics and the legacy import. */
export { type AnalyticsRange, AssistantAnalyticsRepository, dialogAnalyticsSql, type FunnelRow } from "./analytics-repository.js";
export * from "./analytics-service.js";
export * from "./legacy-import.js";
export * from "./legacy-row.js";
export * from "./legacy-source.js";
export { type LegacyUserMap, LegacyUsersRepository, legacyExternalId } from "./legacy-users-repository.js";
export { AssistantSessionsRepository } from "./repository.js";
export * from "./service.js";
export * from "./types.js";
export * from "./validation.js";

/** The context loader: what a model needs before it answers. */
export { escapeLike, HistoryRepository } from "./repository.js";
export { ContextService, mergeHistory } from "./service.js";
export * from "./types.js";

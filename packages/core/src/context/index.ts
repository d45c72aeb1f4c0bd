/** The context loader: what a model needs before it answers. */
export { type ContextBudgetReceipt, type ContextPartKind, type ContextPartReceipt, fitToBudget } from "./budget.js";
export { escapeLike, HistoryRepository } from "./repository.js";
export { ContextService, mergeHistory, profileText, sessionLine } from "./service.js";
export { type ContextSnapshot, ContextSnapshotRepository, type RunState, type SnapshotMessage } from "./snapshot-repository.js";
export { type Encoding, encodingFor, type TokenCounter, tokenCounter } from "./tokens.js";
export * from "./types.js";

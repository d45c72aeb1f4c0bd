/** A conversation's state document: the assistant's short-term memory, with optimistic concurrency. */
export { StatesRepository } from "./repository.js";
export { MAX_STATE_BYTES, mergePatch, StateService } from "./service.js";
export * from "./types.js";

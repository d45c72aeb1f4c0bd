/** Messages: the gap-free, idempotent append and the reads. */
export { MessagesRepository } from "./repository.js";
export { checkMessage, MessagesService } from "./service.js";
export * from "./types.js";

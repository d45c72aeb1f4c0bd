/** Conversations: many per user, with titles, a lifecycle and paged lists. */
export { ConversationsRepository, type ListFilter } from "./repository.js";
export { ConversationsService, DETAIL_MESSAGE_LIMIT } from "./service.js";
export { dateTitle, heuristicTitle, stripMarkup } from "./titles.js";
export * from "./types.js";

export { type SearchQuery, SearchRepository } from "./repository.js";
export { MAX_SEARCH_QUERY, parseSearchQuery, SearchService, snippetText } from "./service.js";
export type { SearchHit, SearchHitKind, SearchOptions, SearchPage } from "./types.js";

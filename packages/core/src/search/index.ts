export { type SearchQuery, SearchRepository } from "./repository.js";
export { MAX_SEARCH_QUERY, parseSearchQuery, SearchService, snippetText } from "./service.js";
export type {
  SearchHit,
  SearchHitKind,
  SearchIndexOptions,
  SearchIndexResult,
  SearchOptions,
  SearchPage,
} from "./types.js";

/** Admin API keys, stored hashed. */
export { ApiKeysRepository } from "./repository.js";
export { ApiKeysService, hashApiKey } from "./service.js";
export * from "./types.js";

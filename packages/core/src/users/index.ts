/** Users: the people a bot or app talks to, found again by the platform's id. */
export { UsersRepository } from "./repository.js";
export { UsersService } from "./service.js";
export * from "./types.js";

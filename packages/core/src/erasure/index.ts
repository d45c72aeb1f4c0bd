export { ErasureRepository } from "./repository.js";
export { ErasureService } from "./service.js";
export { ERASED_TABLES, type ErasedTable, type ErasureReceipt, NON_USER_TABLES } from "./types.js";

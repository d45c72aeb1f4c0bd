/** The lifecycle sweeps: auto-close, retention, expired dialogs, lost runs. */
export { SweepsService } from "./service.js";
export * from "./types.js";

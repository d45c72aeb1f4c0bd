export { BackgroundReporter } from "./reporter.js";
export type { BackgroundContext, BackgroundErrorHandler, BackgroundSource } from "./types.js";

/**
 * @convo/protocol — Convo's wire contract, once: the Zod schemas and TypeScript types
 * of every request, response, error body and event of the HTTP API.
 *
 * Browser-safe: it imports nothing but Zod. The server validates with these schemas
 * and generates `/openapi.json` from them; `@convo/core` takes its input rules from
 * `LIMITS` and `textProblem`; `@convo/client` types itself from them.
 *
 * @example
 * import { AppendMessageBody, type Message } from "@convo/protocol";
 * const body = AppendMessageBody.parse({ role: "user", content: "Привет!" });
 */

// The shapes, by resource.
export * from "./chat.js";
export * from "./common.js";
export * from "./context.js";
export * from "./conversations.js";
export * from "./dialogs.js";
// Commonly used: the limits and enumerations every side shares.
export * from "./limits.js";
export * from "./memory.js";
export * from "./messages.js";
export * from "./runs.js";
export * from "./state.js";
export * from "./users.js";

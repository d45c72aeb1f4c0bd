/**
 * @convo/client — a typed SDK for Convo's HTTP API, for browsers and Node, on `fetch`.
 *
 * Commonly used: `createConvoClient`, `ConvoApiError`, `runs.follow`, the pending-run
 * stores. Types of every request and answer come from `@convo/protocol`.
 *
 * @example
 * import { createConvoClient, ConvoApiError } from "@convo/client";
 *
 * const convo = createConvoClient({ baseUrl: "http://127.0.0.1:8787", token });
 * const { runId } = await convo.runs.start(conversationId, { content: "Привет!" });
 * for await (const event of convo.runs.follow(runId)) console.log(event.seq, event.type, event.content);
 */

export type * from "@convo/protocol";
// Lower level.
export type { RetryOptions } from "./backoff.js";
// Commonly used.
export {
  type AnalyticsReports,
  type AppendToCurrentResult,
  type ConvoClient,
  type ConvoClientOptions,
  createConvoClient,
  type ResumedRun,
} from "./client.js";
export { ConvoApiError, isConvoApiError } from "./errors.js";
export type { ConversationItem, FollowConversationOptions, FollowRunOptions } from "./follow.js";
export type { Credential, HttpOptions, RequestOptions } from "./http.js";
export {
  defaultPendingRuns,
  localStoragePendingRuns,
  memoryPendingRuns,
  type PendingRun,
  type PendingRunStore,
} from "./pending.js";

/**
 * `@convo/core/types` — the shapes Convo's library answers, for code that needs the
 * types alone: importing this entry loads no database driver and no model provider.
 *
 * @example
 * import type { Conversation, Message, Run } from "@convo/core/types";
 */
export type * from "./context/budget.js";
export type * from "./context/tokens.js";
export type * from "./context/types.js";
export type * from "./conversations/types.js";
export type { Page } from "./cursor.js";
export type {
  DialogAnalyticsFilter,
  DialogFunnel,
  DialogReport,
  DialogStepStats,
  DialogTopFilter,
  GoalCount,
  StyleCount,
  StyleEmotionCount,
} from "./dialogs/analytics-service.js";
export type { CreateDialogInput, ModelErrorResult } from "./dialogs/service.js";
export type * from "./dialogs/types.js";
export type { DialogUpdate } from "./dialogs/validation.js";
export type * from "./erasure/types.js";
export type * from "./export/types.js";
export type * from "./keys/types.js";
export type * from "./messages/types.js";
export type { ConversationFeedItem, ConversationFollowOptions } from "./runs/conversation-feed.js";
export type {
  EventsOptions,
  FollowOptions,
  RegenerateRunInput,
  StartRunInput,
  StartRunResult,
  WaitOptions,
} from "./runs/service.js";
export type * from "./runs/types.js";
export type * from "./search/types.js";
export type * from "./state/types.js";
export type * from "./summaries/types.js";
export type * from "./sweeps/types.js";
export type * from "./users/types.js";
export type * from "./webhooks/types.js";

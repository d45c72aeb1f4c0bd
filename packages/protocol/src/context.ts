import { z } from "zod";
import { ClientId, Env, IsoTime, Uuid } from "./common.js";
import { ConversationSummary } from "./conversations.js";
import { CONVERSATION_STATUSES, LIMITS } from "./limits.js";

const HistoryItem = z.strictObject({
  role: z.string().max(20),
  content: z.string(),
  id: z.string().max(100).optional(),
  clientMessageId: ClientId.optional(),
});

export const ContextBody = z.strictObject({
  conversationId: z.uuid().optional().describe("Default: the user's active conversation"),
  historyLimit: z.number().int().min(0).max(LIMITS.historyLimit).optional().describe("Last N messages (default 20)"),
  sessionsLimit: z.number().int().min(0).max(LIMITS.sessionsLimit).optional().describe("Previous conversations (default 3)"),
  history: z.array(HistoryItem).max(500).optional().describe("Messages the client holds; merged without duplicates"),
  env: Env.optional(),
});

export const ContextMessage = z.object({
  id: z.string().optional(),
  seq: z.number().int().optional(),
  role: z.string(),
  content: z.string(),
  parts: z.array(z.unknown()).nullable().optional(),
  clientMessageId: z.string().nullable().optional(),
  createdAt: IsoTime.optional(),
});

export const Context = z.object({
  conversation: ConversationSummary.nullable(),
  conversationHistory: z.array(ContextMessage),
  sessionHistory: z.array(
    z.object({
      id: Uuid,
      title: z.string().nullable(),
      status: z.enum(CONVERSATION_STATUSES),
      startedAt: IsoTime,
      endedAt: IsoTime,
      messageCount: z.number().int(),
      summary: z.string().nullable(),
    }),
  ),
  userProfile: z.record(z.string(), z.unknown()),
});

// The types of the schemas above, for handlers and clients.
export type ContextBody = z.infer<typeof ContextBody>;
export type ContextMessage = z.infer<typeof ContextMessage>;
export type Context = z.infer<typeof Context>;

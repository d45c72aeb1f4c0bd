import { z } from "zod";
import { IsoTime, Uuid } from "./common.js";
import { ConversationSummary } from "./conversations.js";

const HistoryItem = z.strictObject({
  role: z.string().max(20),
  content: z.string(),
  id: z.string().max(100).optional(),
  clientMessageId: z.string().max(200).optional(),
});

export const ContextBody = z.strictObject({
  conversationId: z.uuid().optional().describe("Default: the user's active conversation"),
  historyLimit: z.number().int().min(0).max(200).optional().describe("Last N messages (default 20)"),
  sessionsLimit: z.number().int().min(0).max(20).optional().describe("Previous conversations (default 3)"),
  history: z.array(HistoryItem).max(500).optional().describe("Messages the client holds; merged without duplicates"),
  env: z.string().max(32).optional(),
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
      status: z.enum(["active", "inactive", "closed"]),
      startedAt: IsoTime,
      endedAt: IsoTime,
      messageCount: z.number().int(),
      summary: z.string().nullable(),
    }),
  ),
  userProfile: z.record(z.string(), z.unknown()),
});

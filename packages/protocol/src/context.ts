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
  tokenBudget: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .optional()
    .describe("Fit profile, rolling summary, newest messages and previous sessions into this many tokens; answers `budget`"),
  model: z.string().max(200).optional().describe("The model the context is for: OpenAI models are counted exactly"),
  rollSummary: z.boolean().optional().describe("With a budget: summarize turns that no longer fit (default true)"),
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
  rollingSummary: z
    .object({ content: z.string(), fromSeq: z.number().int(), toSeq: z.number().int() })
    .nullable()
    .optional()
    .describe("With a budget: the summary standing in for turns fromSeq..toSeq"),
  budget: z
    .object({
      budget: z.number().int(),
      used: z.number().int(),
      tokenizer: z.object({ encoding: z.string(), exact: z.boolean(), model: z.string().nullable() }),
      parts: z.array(
        z.object({
          kind: z.enum(["profile", "rollingSummary", "message", "session"]),
          id: z.string().optional(),
          seq: z.number().int().optional(),
          tokens: z.number().int(),
          included: z.boolean(),
        }),
      ),
      omitted: z.object({
        profile: z.boolean(),
        rollingSummary: z.boolean(),
        messages: z.number().int(),
        sessions: z.number().int(),
      }),
      rolled: z.boolean(),
    })
    .optional()
    .describe("With a budget: the receipt — every part's tokens and whether it went in"),
});

// The types of the schemas above, for handlers and clients.
export type ContextBody = z.infer<typeof ContextBody>;
export type ContextMessage = z.infer<typeof ContextMessage>;
export type Context = z.infer<typeof Context>;

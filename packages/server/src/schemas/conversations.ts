import { z } from "zod";
import { IsoTime, QueryInt, Uuid } from "./common.js";
import { Message } from "./messages.js";

// Zod counts UTF-16 units, the limit is 30 code points: the service checks it (422).
const Title = z.string().meta({ maxLength: 30 }).describe("At most 30 characters (code points)");
const Env = z.string().max(32).describe("Deployment, e.g. prod or test");

export const ConversationSummary = z
  .object({
    id: Uuid,
    userId: Uuid,
    externalId: z.string().nullable(),
    title: z.string().nullable(),
    titleSource: z.enum(["heuristic", "model", "date", "user"]).nullable(),
    env: z.string(),
    status: z.enum(["active", "inactive", "closed"]),
    isActive: z.boolean(),
    messageCount: z.number().int(),
    summary: z.string().nullable(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    closedAt: IsoTime.nullable(),
    closeReason: z.enum(["user", "inactivity", "app"]).nullable(),
  })
  .describe("ConversationSummary");

export const ConversationDetail = ConversationSummary.extend({
  messages: z.array(Message),
  hasMoreMessages: z.boolean(),
}).describe("ConversationDetail");

export const CreateConversationBody = z.strictObject({
  title: Title.optional(),
  env: Env.optional(),
  externalId: z.string().max(200).optional(),
  closeCurrent: z.boolean().optional().describe("Close the user's open conversations first"),
});

export const ListConversationsQuery = z.strictObject({
  limit: QueryInt(1, 100).optional(),
  cursor: z.string().max(400).optional(),
  status: z.enum(["active", "closed"]).optional(),
  env: Env.optional(),
});

export const ConversationList = z.object({
  sessions: z.array(ConversationSummary),
  hasMore: z.boolean(),
  total: z.number().int(),
  nextCursor: z.string().nullable(),
});

export const PatchConversationBody = z.strictObject({ title: Title });

export const CloseConversationBody = z
  .strictObject({ reason: z.enum(["user", "app"]).optional() })
  // Fastify validates a missing body as null.
  .nullish()
  .describe("Close reason; `inactivity` is the sweep's");

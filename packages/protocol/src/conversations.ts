import { z } from "zod";
import { ClientId, Env, IsoTime, QueryInt, Uuid } from "./common.js";
import { CLOSE_REASONS, CONVERSATION_STATUSES, LIMITS, TITLE_SOURCES } from "./limits.js";
import { Message } from "./messages.js";

// Zod counts UTF-16 units, the limit is 30 code points: the service checks it (422).
const Title = z
  .string()
  .meta({ maxLength: LIMITS.titleLength })
  .describe(`At most ${LIMITS.titleLength} characters (code points)`);

export const ConversationSummary = z
  .object({
    id: Uuid,
    userId: Uuid,
    externalId: z.string().nullable(),
    title: z.string().nullable(),
    titleSource: z.enum(TITLE_SOURCES).nullable(),
    env: z.string(),
    status: z.enum(CONVERSATION_STATUSES),
    isActive: z.boolean(),
    messageCount: z.number().int(),
    summary: z.string().nullable(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    closedAt: IsoTime.nullable(),
    closeReason: z.enum(CLOSE_REASONS).nullable(),
  })
  .describe("ConversationSummary");

export const ConversationDetail = ConversationSummary.extend({
  messages: z.array(Message),
  hasMoreMessages: z.boolean(),
}).describe("ConversationDetail");

export const CreateConversationBody = z.strictObject({
  title: Title.optional(),
  env: Env.optional(),
  externalId: ClientId.optional(),
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

// The types of the schemas above, for handlers and clients.
export type ConversationSummary = z.infer<typeof ConversationSummary>;
export type ConversationDetail = z.infer<typeof ConversationDetail>;
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;
export type ListConversationsQuery = z.infer<typeof ListConversationsQuery>;
export type ConversationList = z.infer<typeof ConversationList>;
export type PatchConversationBody = z.infer<typeof PatchConversationBody>;
export type CloseConversationBody = z.infer<typeof CloseConversationBody>;

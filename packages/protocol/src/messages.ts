import { z } from "zod";
import { ClientId, Env, IsoTime, QueryInt, QuerySeq, Uuid } from "./common.js";
import { ROLES } from "./limits.js";

export const Role = z.enum(ROLES);

export const Message = z
  .object({
    id: Uuid,
    conversationId: Uuid,
    userId: Uuid,
    seq: z.number().int().describe("1, 2, 3… per conversation, no gaps"),
    role: Role,
    content: z.string(),
    parts: z.array(z.unknown()).nullable(),
    noise: z.boolean(),
    clientMessageId: z.string().nullable(),
    runId: Uuid.nullable(),
    createdAt: IsoTime,
  })
  .describe("Message");

const messageFields = {
  role: Role,
  content: z.string(),
  parts: z.array(z.unknown()).nullable().optional().describe("Tool calls, attachments (e.g. a Telegram file_id)"),
  noise: z.boolean().optional().describe("System noise the context loader leaves out"),
  clientMessageId: ClientId.optional().describe("Sending the same id again stores nothing new"),
};

export const AppendMessageBody = z.strictObject(messageFields);

export const AppendToCurrentBody = z.strictObject({
  ...messageFields,
  externalId: ClientId.optional().describe("Append to the conversation with this key, created on first use"),
  env: Env.optional(),
});

export const MessagesQuery = z.strictObject({
  afterSeq: QuerySeq.optional(),
  limit: QueryInt(1, 500).optional(),
  last: QueryInt(1, 500).optional().describe("Instead of a page: the last N messages, oldest first"),
});

export const MessageList = z.object({
  messages: z.array(Message),
  hasMore: z.boolean(),
  nextCursor: z.string().nullable().describe("Pass as afterSeq for the next page"),
});

// The types of the schemas above, for handlers and clients.
export type Role = z.infer<typeof Role>;
export type Message = z.infer<typeof Message>;
export type AppendMessageBody = z.infer<typeof AppendMessageBody>;
export type AppendToCurrentBody = z.infer<typeof AppendToCurrentBody>;
export type MessagesQuery = z.infer<typeof MessagesQuery>;
export type MessageList = z.infer<typeof MessageList>;

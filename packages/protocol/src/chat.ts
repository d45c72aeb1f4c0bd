/** Wire schemas of the AI SDK chat routes and of stream tokens. */
import { z } from "zod";
import { IsoTime, Uuid } from "./common.js";
import { RUN_STATUSES } from "./limits.js";

/** A UI message as `DefaultChatTransport` sends it; only text parts are read, all parts are kept. */
export const UiMessage = z
  .looseObject({
    id: z.string().max(200),
    role: z.enum(["user", "assistant", "system"]),
    parts: z.array(z.looseObject({ type: z.string().max(200) })).max(1000),
    metadata: z.unknown().optional(),
  })
  .describe("UIMessage");

export const ChatBody = z
  .strictObject({
    id: z.uuid().describe("The conversation id (create the conversation first, then pass it to useChat as `id`)"),
    messages: z
      .array(UiMessage)
      .max(10_000)
      .optional()
      .describe("What DefaultChatTransport sends: the whole chat; only the last (new) user message is stored"),
    message: UiMessage.optional().describe("Or only the new message"),
    trigger: z.enum(["submit-message", "regenerate-message"]).optional().describe("Default submit-message"),
    messageId: z.string().max(200).optional().describe("With regenerate-message: the answer to regenerate"),
    model: z.string().max(200).optional().describe("offline, openai:<model>, google:<model>, anthropic:<model>"),
  })
  .describe("ChatRequest");

export const StopResponse = z
  .object({
    runId: Uuid.nullable().describe("The run that was running, if any"),
    status: z.enum(RUN_STATUSES).nullable(),
  })
  .describe("ChatStopped");

export const StreamTokenBody = z
  .union([z.strictObject({ runId: z.uuid() }), z.strictObject({ conversationId: z.uuid() })])
  .describe("StreamTokenRequest: one run or one conversation");

export const StreamTokenResponse = z
  .object({
    token: z.string().describe("Pass as ?access_token= to the stream route of that run or conversation"),
    expiresAt: IsoTime,
  })
  .describe("StreamToken");

// The types of the schemas above, for handlers and clients.
export type UiMessage = z.infer<typeof UiMessage>;
export type ChatBody = z.infer<typeof ChatBody>;
export type StopResponse = z.infer<typeof StopResponse>;
export type StreamTokenBody = z.infer<typeof StreamTokenBody>;
export type StreamTokenResponse = z.infer<typeof StreamTokenResponse>;

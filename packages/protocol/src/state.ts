import { z } from "zod";
import { IsoTime, Uuid } from "./common.js";

export const StateDoc = z.record(z.string(), z.unknown()).describe("The state document (a JSON object)");

export const ConversationState = z
  .object({
    conversationId: Uuid,
    version: z.number().int().describe("0 until the first write; sent back as ETag"),
    state: StateDoc,
    updatedAt: IsoTime.nullable(),
  })
  .describe("ConversationState");

export const StateHeaders = z.object({
  "if-match": z.string().max(100).optional().describe("The version being replaced (required on writes)"),
});

// The types of the schemas above, for handlers and clients.
export type StateDoc = z.infer<typeof StateDoc>;
export type ConversationState = z.infer<typeof ConversationState>;
export type StateHeaders = z.infer<typeof StateHeaders>;

import { z } from "zod";
import { ClientId, IsoTime, QueryInt, QuerySeq, Uuid } from "./common.js";
import { RUN_EVENT_TYPES, RUN_STATUSES } from "./limits.js";

const ToolChoice = z.union([
  z.enum(["auto", "none", "required"]),
  z.strictObject({ type: z.literal("tool"), toolName: z.string().max(64) }),
]);

const RunModel = z.string().max(200).optional().describe("offline, openai:<model>, google:<model>, anthropic:<model>");

export const StartRunBody = z.strictObject({
  content: z.string().describe("The user's message"),
  clientMessageId: ClientId.optional().describe("A retried start with the same id answers the same run"),
  parts: z.array(z.unknown()).nullable().optional(),
  model: RunModel,
  toolChoice: ToolChoice.optional(),
});

/**
 * The other body `POST /v1/conversations/:id/runs` takes: answer a user message stored
 * already (a bot that stores every update before deciding to answer) — nothing new is
 * stored, and a second start for the message answers the same run.
 */
export const AnswerStoredMessageBody = z.strictObject({
  messageId: Uuid.describe("The stored user message to answer"),
  model: RunModel,
  toolChoice: ToolChoice.optional(),
});

/** Either body of a run start. */
export const StartRunRequest = z.union([StartRunBody, AnswerStoredMessageBody]);

export const StartRunResponse = z
  .object({
    runId: Uuid,
    status: z.enum(RUN_STATUSES),
    conversationId: Uuid,
    userMessageId: Uuid.nullable(),
  })
  .describe("RunStarted");

const Usage = z.object({
  inputTokens: z.number().nullable(),
  outputTokens: z.number().nullable(),
  totalTokens: z.number().nullable(),
});

export const RunRecord = z
  .object({
    id: Uuid,
    userId: Uuid,
    conversationId: Uuid,
    status: z.enum(RUN_STATUSES),
    model: z.string().nullable(),
    finalResponse: z.string().nullable(),
    usage: Usage.nullable(),
    processingTimeMs: z.number().nullable(),
    error: z.string().nullable(),
    userMessageId: Uuid.nullable(),
    assistantMessageId: Uuid.nullable(),
    lastEventSeq: z.number().int(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    finishedAt: IsoTime.nullable(),
  })
  .describe("Run");

export const RunEvent = z
  .looseObject({
    runId: Uuid,
    seq: z.number().int(),
    type: z.enum(RUN_EVENT_TYPES),
    content: z.string().nullable(),
    createdAt: IsoTime,
  })
  .describe("RunEvent: seq, type, content and the fields of its type (tool name/arguments/result, usage, model…)");

export const RunList = z.object({ runs: z.array(RunRecord), hasMore: z.boolean(), nextCursor: z.string().nullable() });

export const EventsQuery = z.strictObject({
  after: QuerySeq.optional().describe("Events with seq greater than this"),
  wait: QueryInt(0, 120).optional().describe("Long-poll: wait up to this many seconds when nothing is new"),
  limit: QueryInt(1, 1000).optional(),
});

export const EventPage = z.object({
  events: z.array(RunEvent),
  hasMore: z.boolean(),
  nextAfter: z.number().int(),
  status: z.enum(RUN_STATUSES),
  finished: z.boolean(),
});

/** A stream token (`POST /v1/stream-tokens`), for clients that cannot send Authorization (EventSource). */
export const AccessToken = z.string().max(2000).optional().describe("A stream token (POST /v1/stream-tokens); never an API key");

export const StreamQuery = z.strictObject({
  access_token: AccessToken,
  after: QuerySeq.optional().describe("Resume after this seq (Last-Event-ID wins when both are sent)"),
});

export const ConversationStreamQuery = z.strictObject({
  access_token: AccessToken,
  afterSeq: QuerySeq.optional().describe("Replay messages after this seq (default: only new ones)"),
});

export const RunIdParams = z.strictObject({ runId: z.uuid() });
export const ListRunsQuery = z.strictObject({ limit: QueryInt(1, 100).optional(), cursor: z.string().max(400).optional() });

// The types of the schemas above, for handlers and clients.
export type StartRunBody = z.infer<typeof StartRunBody>;
export type AnswerStoredMessageBody = z.infer<typeof AnswerStoredMessageBody>;
export type StartRunRequest = z.infer<typeof StartRunRequest>;
export type StartRunResponse = z.infer<typeof StartRunResponse>;
export type RunRecord = z.infer<typeof RunRecord>;
export type RunEvent = z.infer<typeof RunEvent>;
export type RunList = z.infer<typeof RunList>;
export type EventsQuery = z.infer<typeof EventsQuery>;
export type EventPage = z.infer<typeof EventPage>;
export type StreamQuery = z.infer<typeof StreamQuery>;
export type ConversationStreamQuery = z.infer<typeof ConversationStreamQuery>;
export type RunIdParams = z.infer<typeof RunIdParams>;
export type ListRunsQuery = z.infer<typeof ListRunsQuery>;

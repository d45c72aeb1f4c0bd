/** The public shapes of runs and their events, as the library answers them. */
import type { RunEventType, RunStatus } from "@convo/protocol";
import type { runEvents, runs } from "../db/schema.js";

export { RUN_EVENT_TYPES, RUN_STATUSES, type RunEventType, type RunStatus } from "@convo/protocol";

/** Token usage of a run (all steps together). */
export interface RunUsage {
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
}

/** How the model may use tools: the AI SDK's tool choice. */
export type RunToolChoice = "auto" | "none" | "required" | { type: "tool"; toolName: string };

/** A run: one assistant turn, executed in the background. */
export interface Run {
  id: string;
  userId: string;
  conversationId: string;
  status: RunStatus;
  /** The model id the run uses, e.g. `offline` or `openai:gpt-4o-mini`. */
  model: string | null;
  /** The assistant's answer once `done`. */
  finalResponse: string | null;
  usage: RunUsage | null;
  processingTimeMs: number | null;
  /** Why the run ended `error` (or `cancelled`). */
  error: string | null;
  userMessageId: string | null;
  /** The stored assistant message, once `done`. */
  assistantMessageId: string | null;
  toolChoice: RunToolChoice | null;
  /** The highest event `seq` stored so far. */
  lastEventSeq: number;
  /** The node executing the run while it is running. */
  nodeId: string | null;
  leaseExpiresAt: Date | null;
  cancelRequestedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

interface EventBase {
  runId: string;
  /** 1, 2, 3… per run, without gaps; `after` cursors and SSE `id:` use it. */
  seq: number;
  createdAt: Date;
}

/**
 * `thinking`: seq 1 is stored with the run (`phase: "started"`, content null); the
 * model's reasoning follows as `phase: "reasoning"` with its text.
 */
export interface ThinkingEvent extends EventBase {
  type: "thinking";
  content: string | null;
  phase: "started" | "reasoning";
  model?: string;
  userMessageId?: string;
}

/** One tool call with its result (or error), stored when the tool has answered. */
export interface ToolCallEvent extends EventBase {
  type: "tool_call";
  content: null;
  toolCallId: string;
  name: string;
  arguments: unknown;
  result: unknown;
  success: boolean;
  durationMs: number;
}

/** A piece of the answer; all `delta` contents of a run concatenated equal its final text. */
export interface DeltaEvent extends EventBase {
  type: "delta";
  content: string;
}

/** Terminal: the answer is complete and stored as the assistant message. */
export interface DoneEvent extends EventBase {
  type: "done";
  /** The final text. */
  content: string;
  model: string;
  usage: RunUsage;
  processingTimeMs: number;
  assistantMessageId: string;
  finishReason: string;
}

/** Terminal: the run failed; `content` says why, `code` classifies it. */
export interface ErrorEvent extends EventBase {
  type: "error";
  content: string;
  code: string;
}

/** Terminal: the run was cancelled; what was said so far stays in the `delta` events. */
export interface CancelledEvent extends EventBase {
  type: "cancelled";
  content: string | null;
}

export type RunEvent = ThinkingEvent | ToolCallEvent | DeltaEvent | DoneEvent | ErrorEvent | CancelledEvent;

/** The event types that end a run: nothing is stored after one. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<RunEventType> = new Set(["done", "error", "cancelled"]);

/**
 * True for the event types that end a run (`done`, `error`, `cancelled`): stop reading
 * after one.
 *
 * @example
 * for await (const event of await convo.runs.follow(userId, runId)) {
 *   if (isTerminal(event.type)) console.log("run ended:", event.type);
 * }
 */
export const isTerminal = (type: string) => TERMINAL_EVENT_TYPES.has(type as RunEventType);

/** A page of events after a seq, with the run's status when it was read. */
export interface RunEventPage {
  events: RunEvent[];
  /** More events follow the last one answered (the page was full). */
  hasMore: boolean;
  /** The `after` to ask with next: the last answered seq, or the asked `after` when none. */
  nextAfter: number;
  /** The run's status when the page was read. */
  status: RunStatus;
  /** True when the run has ended and `events` reach its terminal event (nothing more will come). */
  finished: boolean;
}

/**
 * The public Run of a stored row (usage grouped, the tool choice taken from its options).
 *
 * @example
 * const row = await uow.runs.find(userId, runId);
 * if (!row) throw new NotFoundError("run", runId);
 * return toRun(row);
 */
export function toRun(row: RunRow): Run {
  const usage =
    row.inputTokens === null && row.outputTokens === null && row.totalTokens === null
      ? null
      : { inputTokens: row.inputTokens, outputTokens: row.outputTokens, totalTokens: row.totalTokens };
  const toolChoice = (row.options as { toolChoice?: RunToolChoice }).toolChoice ?? null;
  return {
    id: row.id,
    userId: row.userId,
    conversationId: row.conversationId,
    status: row.status as RunStatus,
    model: row.model,
    finalResponse: row.finalResponse,
    usage,
    processingTimeMs: row.processingTimeMs,
    error: row.error,
    userMessageId: row.userMessageId,
    assistantMessageId: row.assistantMessageId,
    toolChoice,
    lastEventSeq: row.lastEventSeq,
    nodeId: row.nodeId,
    leaseExpiresAt: row.leaseExpiresAt,
    cancelRequestedAt: row.cancelRequestedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
  };
}

/**
 * An event row with its type-specific `data` fields spread beside `seq`, `type` and `content`.
 *
 * @example
 * const events = (await uow.runs.eventsAfter(userId, runId, after, 500)).map(toRunEvent);
 */
export function toRunEvent(row: RunEventRow): RunEvent {
  // `data` never carries the base fields (the executor writes it), so spreading it
  // first and the base after keeps the base authoritative.
  return {
    ...(row.data ?? {}),
    runId: row.runId,
    seq: row.seq,
    type: row.type,
    content: row.content,
    createdAt: row.createdAt,
  } as RunEvent;
}

export type RunRow = typeof runs.$inferSelect;

export type RunEventRow = typeof runEvents.$inferSelect;

/** An event to store; `seq` is given by the database. */
export interface NewRunEvent {
  type: RunEventType;
  content?: string | null;
  data?: Record<string, unknown> | null;
}

/** The final fields a run is ended with, together with its terminal event. */
export interface RunFinish {
  status: Exclude<RunStatus, "running">;
  finalResponse?: string | null;
  model?: string | null;
  usage?: { inputTokens: number | null; outputTokens: number | null; totalTokens: number | null } | null;
  processingTimeMs?: number | null;
  error?: string | null;
  assistantMessageId?: string | null;
}

/** What an append stored: the run after it, and the seqs the events got. */
export interface AppendedEvents {
  run: RunRow;
  firstSeq: number;
  lastSeq: number;
}

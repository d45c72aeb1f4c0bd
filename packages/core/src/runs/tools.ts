/**
 * The tools a run's model may call: Convo's built-ins (`current_time`,
 * `search_history`) and the library user's own. Tools are AI SDK tools; a factory
 * receives the run's context so a tool can act for the run's user only.
 */
import { type ToolSet, tool, zodSchema } from "ai";
import { z } from "zod";
import type { HistoryHit } from "../context/index.js";

/** What a tool knows about the run calling it (also passed as the AI SDK's `experimental_context`). */
export interface RunToolContext {
  userId: string;
  conversationId: string;
  runId: string;
  /** The run's clock ("now" for this run; tests move it). */
  now(): Date;
  /** Full-text search over the run user's own earlier conversations, outside this one. */
  searchHistory(query: string, limit: number): Promise<HistoryHit[]>;
}

/**
 * Tools to offer the model besides the built-ins: a ToolSet, or a function of the
 * run that answers one. A tool with a built-in's name replaces the built-in.
 *
 * @example
 * openConvo({ runs: { tools: { weather: tool({ description: "Weather in a city",
 *   inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => lookUp(city) }) } } });
 */
export type RunTools = ToolSet | ((context: RunToolContext) => ToolSet);

function localTime(now: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")}`;
}

// The input schemas are made once per process: the AI SDK turns a schema into JSON
// Schema once per schema object, and tools are built for every run (per-run schemas
// cost each run start a Zod → JSON Schema conversion).
const CURRENT_TIME_INPUT = zodSchema(
  z.object({
    timeZone: z.string().min(1).max(64).optional().describe("IANA time zone, e.g. Europe/Moscow; default UTC"),
  }),
);
const SEARCH_HISTORY_INPUT = zodSchema(
  z.object({
    query: z.string().min(1).max(200).describe("Words to look for"),
    limit: z.number().int().min(1).max(20).optional().describe("At most this many hits (default 5)"),
  }),
);

/**
 * Convo's built-in tools for one run (`current_time`, `search_history`), bound to the
 * run's user. Runs get them automatically; call it to offer the same tools to a model
 * you drive yourself.
 *
 * @example
 * const tools = builtInTools({
 *   userId, conversationId, runId, now: () => new Date(),
 *   searchHistory: (query, limit) => convo.context.searchHistory(userId, query, { limit, excludeConversationId: conversationId }),
 * });
 * const { text } = await generateText({ model, tools, stopWhen: stepCountIs(3), prompt: "Который час в Москве?" });
 */
export function builtInTools(context: RunToolContext): ToolSet {
  return {
    current_time: tool({
      description: "The current date and time, optionally in an IANA time zone such as Europe/Moscow.",
      inputSchema: CURRENT_TIME_INPUT,
      execute: async ({ timeZone }) => {
        const now = context.now();
        const zone = timeZone ?? "UTC";
        // Intl throws a RangeError for an unknown zone: the model gets it as the tool's error.
        return { iso: now.toISOString(), timeZone: zone, local: localTime(now, zone) };
      },
    }),
    search_history: tool({
      description:
        "Searches the user's own earlier conversations (messages, titles, summaries) by words — any word form, Russian or English — or emoji; best matches first.",
      inputSchema: SEARCH_HISTORY_INPUT,
      execute: async ({ query, limit }) => {
        const hits = await context.searchHistory(query, limit ?? 5);
        return {
          query,
          hits: hits.map((h) => ({
            kind: h.kind ?? "message",
            conversationId: h.conversationId,
            conversationTitle: h.conversationTitle,
            role: h.role,
            content: h.content.length > 500 ? `${h.content.slice(0, 500)}…` : h.content,
            createdAt: h.createdAt.toISOString(),
          })),
        };
      },
    }),
  };
}

/** The built-ins and the user's tools for one run (the user's win on a name clash). */
export function toolsFor(context: RunToolContext, extra: RunTools | undefined): ToolSet {
  const mine = typeof extra === "function" ? extra(context) : (extra ?? {});
  return { ...builtInTools(context), ...mine };
}

/**
 * Black-box helpers for runs over HTTP: a strict server-sent-events reader on fetch
 * (droppable mid-stream), polling the events of a run to its end, and bounded waits
 * that fail with a clear message instead of asserting on time.
 */
import type { LanguageModelV3CallOptions } from "@ai-sdk/provider";
import { MockLanguageModelV3 } from "ai/test";
import { type ScriptItem, scriptedModel } from "../../../core/test/support/runs.js";
import { type ApiResponse, type RequestOptions, request } from "./server.js";

/** How long any wait of these tests lasts before it fails (the machine is noisy; nothing asserts on time). */
export const PATIENCE_MS = 20_000;

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON
export type Json = any;

/** Polls `probe` until it answers a truthy value; fails naming `what` after `PATIENCE_MS`. */
export async function until<T>(what: string, probe: () => Promise<T>, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`gave up after ${PATIENCE_MS / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Settles with `promise`, or fails naming `what` after `PATIENCE_MS`. */
export async function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`gave up after ${PATIENCE_MS / 1000} s waiting for ${what}`)), PATIENCE_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One parsed server-sent event, with its exact wire text. */
export interface SseEvent {
  event: string | undefined;
  id: string | undefined;
  data: string;
  /** The block as received, blank line included. */
  raw: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The next event (comments skipped), or undefined when the server ended the stream. */
  next(): Promise<SseEvent | undefined>;
  /** Every event until the server ends the stream. */
  rest(): Promise<SseEvent[]>;
  /** All text received so far. */
  text(): string;
  /** Drops the connection (the client goes away). */
  close(): void;
}

/** Opens an SSE stream; a non-200 answer (a refusal before any stream) is read whole and answered instead. */
export async function openSseOrAnswer(
  url: string,
  path: string,
  options: RequestOptions = {},
): Promise<{ stream: SseStream } | { answer: ApiResponse }> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: "text/event-stream", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${url}${path}`, { headers, signal: controller.signal });
  if (response.status !== 200 || !response.body) {
    const bytes = Buffer.from(await response.arrayBuffer());
    const text = bytes.toString("utf8");
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { answer: { status: response.status, headers: response.headers, json, text, bytes } };
  }
  const reader = response.body.getReader();
  // `stream: true` keeps a UTF-8 sequence split across network chunks whole.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let all = "";
  let buffer = "";
  let ended = false;

  const take = (): SseEvent | undefined => {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end < 0) return undefined;
      const raw = buffer.slice(0, end + 2);
      buffer = buffer.slice(end + 2);
      const lines = raw.slice(0, -2).split("\n");
      if (lines.every((line) => line.startsWith(":"))) continue; // keep-alive comment
      const parsed: SseEvent = { event: undefined, id: undefined, data: "", raw };
      const data: string[] = [];
      for (const line of lines) {
        const match = /^(event|id|data|retry): (.*)$/.exec(line);
        if (!match) throw new Error(`malformed SSE line ${JSON.stringify(line)} in ${JSON.stringify(raw)}`);
        const [, field, value] = match as unknown as [string, string, string];
        if (field === "data") data.push(value);
        else if (field === "event") parsed.event = value;
        else if (field === "id") parsed.id = value;
      }
      parsed.data = data.join("\n");
      return parsed;
    }
  };

  const stream: SseStream = {
    status: response.status,
    headers: response.headers,
    async next() {
      for (;;) {
        const event = take();
        if (event) return event;
        if (ended) {
          if (buffer !== "") throw new Error(`the stream ended inside an event: ${JSON.stringify(buffer)}`);
          return undefined;
        }
        const chunk = await within(`the next SSE event of ${path}`, reader.read());
        if (chunk.done) {
          ended = true;
          const tail = decoder.decode();
          all += tail;
          buffer += tail;
        } else {
          const text = decoder.decode(chunk.value, { stream: true });
          all += text;
          buffer += text;
        }
      }
    },
    async rest() {
      const out: SseEvent[] = [];
      for (let event = await stream.next(); event; event = await stream.next()) out.push(event);
      return out;
    },
    text: () => all,
    close() {
      controller.abort();
      reader.cancel().catch(() => {});
    },
  };
  return { stream };
}

/** Opens an SSE stream that must answer 200. */
export async function openSse(url: string, path: string, options: RequestOptions = {}): Promise<SseStream> {
  const opened = await openSseOrAnswer(url, path, options);
  if ("answer" in opened) throw new Error(`GET ${path}: ${opened.answer.status} ${opened.answer.text}`);
  return opened.stream;
}

/** The wire text the server must have sent for a run event received as `data`. */
export const runEventWire = (event: Json) => `event: ${event.type}\nid: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;

type Api = (method: string, path: string, options?: RequestOptions) => Promise<ApiResponse>;

/** Polls `GET /v1/runs/:id/events` (long-polling) from `after` until the page says finished. */
export async function pollToEnd(api: Api, runId: string, after = 0): Promise<Json[]> {
  const events: Json[] = [];
  let next = after;
  return until(
    `run ${runId} to finish (events after ${after})`,
    async () => {
      const page = await api("GET", `/v1/runs/${runId}/events?after=${next}&wait=5`);
      if (page.status !== 200) throw new Error(`events: ${page.status} ${page.text}`);
      events.push(...page.json.events);
      next = page.json.nextAfter;
      return page.json.finished ? events : undefined;
    },
    0,
  );
}

/** Polls `GET /v1/runs/:id/events` until an event of one of `types` is stored; answers all events so far. */
export async function pollUntilType(api: Api, runId: string, types: string[]): Promise<Json[]> {
  const events: Json[] = [];
  let next = 0;
  return until(
    `a ${types.join("/")} event of run ${runId}`,
    async () => {
      const page = await api("GET", `/v1/runs/${runId}/events?after=${next}&wait=5`);
      if (page.status !== 200) throw new Error(`events: ${page.status} ${page.text}`);
      events.push(...page.json.events);
      next = page.json.nextAfter;
      if (events.some((e) => types.includes(e.type))) return events;
      if (page.json.finished) throw new Error(`run ${runId} ended without a ${types.join("/")} event: ${JSON.stringify(events)}`);
      return undefined;
    },
    0,
  );
}

export const deltas = (events: Json[]) =>
  events
    .filter((e) => e.type === "delta")
    .map((e) => e.content)
    .join("");

/**
 * A mock model whose `doStream` does not answer until `held` resolves, then streams
 * the script of each call in turn (see `scriptedModel`).
 */
export function heldModel(held: Promise<void>, ...steps: ScriptItem[][]): MockLanguageModelV3 & { calls: number } {
  const inner = scriptedModel(...steps);
  const model = new MockLanguageModelV3({
    doStream: async (options: LanguageModelV3CallOptions) => {
      model.calls += 1;
      await held;
      return inner.doStream(options);
    },
  }) as MockLanguageModelV3 & { calls: number };
  model.calls = 0;
  return model;
}

/** Creates a user and an open conversation through the API (admin). */
export async function userAndConversation(api: Api): Promise<{ userId: string; conversationId: string }> {
  const user = await api("POST", "/v1/users", { body: {} });
  if (user.status !== 201) throw new Error(`create user: ${user.status} ${user.text}`);
  const conversation = await api("POST", `/v1/users/${user.json.id}/conversations`, { body: {} });
  if (conversation.status !== 201) throw new Error(`create conversation: ${conversation.status} ${conversation.text}`);
  return { userId: user.json.id, conversationId: conversation.json.id };
}

/** An Api on a server URL (no credentials: the server runs open). */
export const openApi =
  (url: string): Api =>
  (method, path, options) =>
    request(url, method, path, options);

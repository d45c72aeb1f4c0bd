/**
 * Following streams with `fetch` (so credentials go in a header, unlike EventSource):
 * a run's events exactly once up to its terminal event, resuming by `Last-Event-ID`
 * after any drop, falling back to long-polling where streaming is blocked; and a
 * conversation's messages and run events, de-duplicated.
 */
import type { EventPage, Message, RunEvent } from "@convo/protocol";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { backoffDelay, type RetryOptions, sleep } from "./backoff.js";
import { ConvoApiError, isAbort } from "./errors.js";
import { errorOf, type Http } from "./http.js";

const TERMINAL = new Set(["done", "error", "cancelled"]);

export interface FollowRunOptions {
  /** Yield events after this seq (default 0: from the first). */
  after?: number;
  /** Ends the iteration; the loop then ends without an error. */
  signal?: AbortSignal;
  /** `sse` (default `auto`: SSE, long-polling after three drops in a row with no event), or `poll` from the start. */
  transport?: "auto" | "sse" | "poll";
  /** Backoff between reconnections (attempts are unlimited while the server answers). */
  retry?: RetryOptions;
  /** Seconds a long-poll waits for news (default 25). */
  pollWaitSeconds?: number;
}

/** One server-sent event. */
interface SseMessage {
  event?: string;
  id?: string;
  data: string;
}

/** The messages of an SSE response body, read with the maintained `eventsource-parser`. */
async function* sseMessages(response: Response): AsyncGenerator<SseMessage> {
  const body = response.body;
  if (!body) return;
  const reader = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

const isStream = (response: Response) => (response.headers.get("content-type") ?? "").startsWith("text/event-stream");

/** A 4xx other than timeout and rate limiting: retrying cannot help. */
const fatal = (error: unknown) =>
  error instanceof ConvoApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;

/**
 * Every event of run `runId` after `after`, exactly once and in order, ending after the
 * terminal event (`done`, `error`, `cancelled`). Drops, server restarts and node changes
 * are resumed from the last seq seen, with backoff; a 4xx (no such run, no access) throws.
 */
export async function* followRun(http: Http, runId: string, options: FollowRunOptions = {}): AsyncGenerator<RunEvent> {
  const { signal } = options;
  let after = options.after ?? 0;
  let mode: "sse" | "poll" = options.transport === "poll" ? "poll" : "sse";
  let failures = 0;
  const path = `/v1/runs/${encodeURIComponent(runId)}`;
  try {
    for (;;) {
      const before = after;
      try {
        if (mode === "poll") {
          const page = await http.json<EventPage>({
            method: "GET",
            path: `${path}/events`,
            query: { after, wait: options.pollWaitSeconds ?? 25 },
            signal,
            idempotent: false,
          });
          for (const event of page.events) {
            if (event.seq <= after) continue;
            after = event.seq;
            yield event;
            if (TERMINAL.has(event.type) || signal?.aborted) return;
          }
          if (page.finished) return;
          failures = 0;
          continue;
        }
        const response = await http.send({
          method: "GET",
          path: `${path}/stream`,
          headers: after > 0 ? { accept: "text/event-stream", "last-event-id": String(after) } : { accept: "text/event-stream" },
          signal,
        });
        if (!response.ok) throw await errorOf({ method: "GET", path: `${path}/stream` }, response);
        // A proxy that answers something else than an event stream blocks streaming: poll instead.
        if (!isStream(response) && options.transport !== "sse") {
          await response.body?.cancel();
          mode = "poll";
          continue;
        }
        for await (const message of sseMessages(response)) {
          if (message.id === undefined || !/^\d+$/.test(message.id)) continue; // comments, stream notices
          const seq = Number(message.id);
          if (seq <= after) continue;
          const event = JSON.parse(message.data) as RunEvent;
          after = seq;
          yield event;
          if (TERMINAL.has(event.type) || signal?.aborted) return;
        }
      } catch (error) {
        if (isAbort(error, signal)) return;
        if (fatal(error)) throw error;
      }
      // The stream ended or failed before the terminal event: resume after a pause.
      failures = after > before ? 1 : failures + 1;
      if (mode === "sse" && failures >= 3 && after === before && options.transport !== "sse") mode = "poll";
      await sleep(backoffDelay(failures, options.retry), signal);
    }
  } catch (error) {
    if (isAbort(error, signal)) return;
    throw error;
  }
}

/** One item of a followed conversation. */
export type ConversationItem = { type: "message"; message: Message } | { type: "run_event"; event: RunEvent };

export interface FollowConversationOptions {
  /** Replay messages after this seq first (default: only new ones). */
  afterSeq?: number;
  signal?: AbortSignal;
  retry?: RetryOptions;
}

/**
 * A conversation live: new messages and its runs' events, each once — messages by
 * `seq`, run events by (run, seq) — across reconnections (resumed after the last
 * message seq). Never ends by itself: stop it with the signal or by breaking the loop.
 */
export async function* followConversation(
  http: Http,
  conversationId: string,
  options: FollowConversationOptions = {},
): AsyncGenerator<ConversationItem> {
  const { signal } = options;
  let afterSeq = options.afterSeq;
  const seen = new Map<string, number>();
  let failures = 0;
  const path = `/v1/conversations/${encodeURIComponent(conversationId)}/stream`;
  try {
    for (;;) {
      try {
        const response = await http.send({
          method: "GET",
          path,
          query: { afterSeq },
          headers: { accept: "text/event-stream" },
          signal,
        });
        if (!response.ok) throw await errorOf({ method: "GET", path }, response);
        for await (const message of sseMessages(response)) {
          failures = 0;
          if (message.event === "message") {
            const item = JSON.parse(message.data) as Message;
            if (afterSeq !== undefined && item.seq <= afterSeq) continue;
            afterSeq = item.seq;
            yield { type: "message", message: item };
            if (signal?.aborted) return;
          } else if (message.event === "run_event") {
            const event = JSON.parse(message.data) as RunEvent;
            if (event.seq <= (seen.get(event.runId) ?? 0)) continue;
            seen.set(event.runId, event.seq);
            yield { type: "run_event", event };
            if (signal?.aborted) return;
          }
        }
      } catch (error) {
        if (isAbort(error, signal)) return;
        if (fatal(error)) throw error;
      }
      failures += 1;
      await sleep(backoffDelay(failures, options.retry), signal);
    }
  } catch (error) {
    if (isAbort(error, signal)) return;
    throw error;
  }
}

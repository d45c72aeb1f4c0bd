/**
 * Follows a conversation live (`GET /v1/conversations/:id/stream`) with `fetch`, so
 * the Authorization header goes along (EventSource cannot send it). Reconnects after
 * a drop with `Last-Event-ID` = the last message seq seen, so nothing is missed and
 * nothing comes twice.
 */
import { EventSourceParserStream } from "eventsource-parser/stream";
import { authHeaders, type StoredMessage } from "../api";

export type FeedItem =
  | { type: "message"; message: StoredMessage & { clientMessageId?: string | null; runId?: string | null } }
  | { type: "run_event"; event: { runId: string; seq: number; type: string } };

/**
 * Calls `onItem` for everything after `afterSeq` until `signal` aborts.
 *
 * @example
 * const abort = new AbortController();
 * void followConversation(id, lastSeq, (item) => console.log(item), abort.signal);
 */
export async function followConversation(
  conversationId: string,
  afterSeq: number,
  onItem: (item: FeedItem) => void,
  signal: AbortSignal,
): Promise<void> {
  let lastSeq = afterSeq;
  let delay = 500;
  while (!signal.aborted) {
    try {
      const response = await fetch(`/v1/conversations/${conversationId}/stream?afterSeq=${lastSeq}`, {
        headers: { ...authHeaders(), accept: "text/event-stream", "last-event-id": String(lastSeq) },
        signal,
      });
      // 404: the conversation is gone; 401: signed out. Nothing to follow any more.
      if (response.status === 404 || response.status === 401) return;
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      delay = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
      for (;;) {
        const { done, value: event } = await reader.read();
        if (done) break;
        if (event.event === "message") {
          const message = JSON.parse(event.data) as StoredMessage;
          lastSeq = Math.max(lastSeq, message.seq);
          onItem({ type: "message", message });
        } else if (event.event === "run_event") {
          onItem({ type: "run_event", event: JSON.parse(event.data) });
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    // The stream ended or dropped: come back after a pause that grows to 10 s.
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}

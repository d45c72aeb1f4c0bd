/**
 * A run's events as AI SDK 6 UI message stream chunks (what `useChat` reads).
 *
 * The mapping is a pure function of the events from seq 1, so replaying a run (the
 * resume route) gives the very same chunks, part ids included: a reloaded page rebuilds
 * the same message. Convo stores no step boundaries; a tool call ends a step (the model
 * is called again with its result), so `finish-step` + `start-step` follow each one.
 *
 * | run event                      | chunks                                                  |
 * | ------------------------------ | ------------------------------------------------------- |
 * | `thinking` phase `started`     | `start` (`messageId` = run id = the answer's id), `start-step` |
 * | `thinking` phase `reasoning`   | `reasoning-start` (once per block), `reasoning-delta`   |
 * | `delta`                        | `text-start` (once per block), `text-delta`             |
 * | `tool_call`                    | `tool-input-available`, `tool-output-available` (or `-error`), `finish-step`, `start-step` |
 * | `done`                         | open block ends, `finish-step`, `finish`                |
 * | `error`                        | open block ends, `finish-step`, `error`                 |
 * | `cancelled`                    | open block ends, `finish-step`, `abort`                 |
 */
import type { RunEvent } from "@convo/core";
import type { UIMessageChunk } from "ai";

type FinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "error" | "other";
const FINISH_REASONS = new Set<string>(["stop", "length", "content-filter", "tool-calls", "error", "other"]);

/**
 * Turns one run's events, in seq order from seq 1, into UI message chunks.
 *
 * @example
 * const mapper = new UiChunkMapper(run.id);
 * for await (const event of await convo.runs.follow(userId, run.id)) {
 *   for (const chunk of mapper.push(event)) write(chunk);
 * }
 */
export class UiChunkMapper {
  /** The open text or reasoning block: its kind and part id. */
  #open: { kind: "text" | "reasoning"; id: string } | undefined;
  #started = false;
  #ended = false;

  constructor(private readonly runId: string) {}

  /** True once the terminal event was mapped. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The chunks for `event` (none once the run has ended). */
  push(event: RunEvent): UIMessageChunk[] {
    if (this.#ended) return [];
    const out: UIMessageChunk[] = [];
    // A stream that starts mid-run (it should not: the resume route replays from seq 1) still opens the message.
    if (!this.#started) {
      this.#started = true;
      out.push({ type: "start", messageId: this.runId }, { type: "start-step" });
    }
    switch (event.type) {
      case "thinking":
        if (event.phase === "reasoning" && event.content) {
          this.#block(out, "reasoning", event.seq);
          out.push({ type: "reasoning-delta", id: this.#open!.id, delta: event.content });
        }
        break;
      case "delta":
        if (event.content !== "") {
          this.#block(out, "text", event.seq);
          out.push({ type: "text-delta", id: this.#open!.id, delta: event.content });
        }
        break;
      case "tool_call":
        this.#close(out);
        out.push({
          type: "tool-input-available",
          toolCallId: event.toolCallId,
          toolName: event.name,
          input: event.arguments ?? {},
          dynamic: true,
        });
        out.push(
          event.success
            ? { type: "tool-output-available", toolCallId: event.toolCallId, output: event.result ?? null, dynamic: true }
            : { type: "tool-output-error", toolCallId: event.toolCallId, errorText: String(event.result), dynamic: true },
        );
        out.push({ type: "finish-step" }, { type: "start-step" });
        break;
      case "done":
        this.#end(out);
        out.push({ type: "finish", finishReason: finishReason(event.finishReason) });
        break;
      case "error":
        this.#end(out);
        out.push({ type: "error", errorText: event.content });
        break;
      case "cancelled":
        this.#end(out);
        out.push({ type: "abort", reason: event.content ?? "cancelled" });
        break;
    }
    return out;
  }

  #block(out: UIMessageChunk[], kind: "text" | "reasoning", seq: number): void {
    if (this.#open?.kind === kind) return;
    this.#close(out);
    // Named after the run and the event that opened the block: the same on every replay.
    this.#open = { kind, id: `${kind}-${this.runId}-${seq}` };
    out.push({ type: kind === "text" ? "text-start" : "reasoning-start", id: this.#open.id });
  }

  #close(out: UIMessageChunk[]): void {
    if (!this.#open) return;
    out.push({ type: this.#open.kind === "text" ? "text-end" : "reasoning-end", id: this.#open.id });
    this.#open = undefined;
  }

  #end(out: UIMessageChunk[]): void {
    this.#close(out);
    out.push({ type: "finish-step" });
    this.#ended = true;
  }
}

function finishReason(stored: string | undefined): FinishReason {
  return stored !== undefined && FINISH_REASONS.has(stored) ? (stored as FinishReason) : "other";
}

/**
 * The chunks of a run's events as a web stream, for `createUIMessageStreamResponse`.
 * Ends after the terminal event, or when `events` ends (the client went away, the
 * server shuts down).
 */
export function uiChunkStream(runId: string, events: AsyncIterable<RunEvent>): ReadableStream<UIMessageChunk> {
  const mapper = new UiChunkMapper(runId);
  const iterator = events[Symbol.asyncIterator]();
  return new ReadableStream<UIMessageChunk>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) {
        controller.close();
        return;
      }
      for (const chunk of mapper.push(next.value)) controller.enqueue(chunk);
      if (mapper.ended) {
        controller.close();
        await iterator.return?.();
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/**
 * The run event → UI message chunk mapping, with no server: every kind of event, the
 * ends (done, error, cancelled), and the exact wire text the AI SDK's helpers frame it in.
 */
import type { RunEvent } from "@convo/core";
import { createUIMessageStreamResponse, uiMessageChunkSchema } from "ai";
import { describe, expect, it } from "vitest";
import { UiChunkMapper, uiChunkStream } from "../src/chat/ui-chunks.js";

const RUN = "11111111-1111-4111-8111-111111111111";
const at = new Date("2026-12-04T00:00:00Z");
const base = (seq: number) => ({ runId: RUN, seq, createdAt: at });
const started: RunEvent = { ...base(1), type: "thinking", content: null, phase: "started", model: "m" };

async function* from(events: RunEvent[]) {
  yield* events;
}

describe("UiChunkMapper", () => {
  it("maps reasoning, text, a failed and a good tool call, and done", async () => {
    const events: RunEvent[] = [
      started,
      { ...base(2), type: "thinking", content: "думаю", phase: "reasoning" },
      { ...base(3), type: "delta", content: "Сейчас " },
      {
        ...base(4),
        type: "tool_call",
        content: null,
        toolCallId: "c1",
        name: "current_time",
        arguments: { timeZone: "Mars" },
        result: "unknown time zone",
        success: false,
        durationMs: 1,
      },
      {
        ...base(5),
        type: "tool_call",
        content: null,
        toolCallId: "c2",
        name: "current_time",
        arguments: {},
        result: { iso: "x" },
        success: true,
        durationMs: 1,
      },
      { ...base(6), type: "delta", content: "12:00" },
      {
        ...base(7),
        type: "done",
        content: "Сейчас 12:00",
        model: "m",
        usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 },
        processingTimeMs: 5,
        assistantMessageId: RUN,
        finishReason: "stop",
      },
      { ...base(8), type: "delta", content: "after the end is ignored" },
    ];
    const mapper = new UiChunkMapper(RUN);
    const chunks = events.flatMap((event) => mapper.push(event));
    expect(chunks).toEqual([
      { type: "start", messageId: RUN },
      { type: "start-step" },
      { type: "reasoning-start", id: `reasoning-${RUN}-2` },
      { type: "reasoning-delta", id: `reasoning-${RUN}-2`, delta: "думаю" },
      { type: "reasoning-end", id: `reasoning-${RUN}-2` },
      { type: "text-start", id: `text-${RUN}-3` },
      { type: "text-delta", id: `text-${RUN}-3`, delta: "Сейчас " },
      { type: "text-end", id: `text-${RUN}-3` },
      { type: "tool-input-available", toolCallId: "c1", toolName: "current_time", input: { timeZone: "Mars" }, dynamic: true },
      { type: "tool-output-error", toolCallId: "c1", errorText: "unknown time zone", dynamic: true },
      { type: "finish-step" },
      { type: "start-step" },
      { type: "tool-input-available", toolCallId: "c2", toolName: "current_time", input: {}, dynamic: true },
      { type: "tool-output-available", toolCallId: "c2", output: { iso: "x" }, dynamic: true },
      { type: "finish-step" },
      { type: "start-step" },
      { type: "text-start", id: `text-${RUN}-6` },
      { type: "text-delta", id: `text-${RUN}-6`, delta: "12:00" },
      { type: "text-end", id: `text-${RUN}-6` },
      { type: "finish-step" },
      { type: "finish", finishReason: "stop" },
    ]);
    const schema = uiMessageChunkSchema();
    for (const chunk of chunks) expect((await schema.validate!(chunk)).success, JSON.stringify(chunk)).toBe(true);
  });

  it("ends a failed run with error and a cancelled one with abort", () => {
    const failed = new UiChunkMapper(RUN);
    failed.push(started);
    failed.push({ ...base(2), type: "delta", content: "Нача" });
    expect(failed.push({ ...base(3), type: "error", content: "the model failed", code: "MODEL_FAILED" })).toEqual([
      { type: "text-end", id: `text-${RUN}-2` },
      { type: "finish-step" },
      { type: "error", errorText: "the model failed" },
    ]);
    const cancelled = new UiChunkMapper(RUN);
    cancelled.push(started);
    expect(cancelled.push({ ...base(2), type: "cancelled", content: "cancelled by request" })).toEqual([
      { type: "finish-step" },
      { type: "abort", reason: "cancelled by request" },
    ]);
    expect(cancelled.ended).toBe(true);
  });

  it("is framed by the AI SDK's helpers as data lines ending with [DONE]", async () => {
    const events: RunEvent[] = [started, { ...base(2), type: "cancelled", content: "cancelled by request" }];
    const response = createUIMessageStreamResponse({ stream: uiChunkStream(RUN, from(events)) });
    expect(response.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(await response.text()).toBe(
      [
        `data: {"type":"start","messageId":"${RUN}"}`,
        `data: {"type":"start-step"}`,
        `data: {"type":"finish-step"}`,
        `data: {"type":"abort","reason":"cancelled by request"}`,
        "data: [DONE]",
      ]
        .map((line) => `${line}\n\n`)
        .join(""),
    );
  });
});

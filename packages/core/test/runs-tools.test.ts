import { tool } from "ai";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { RunEvent, ToolCallEvent } from "../src/index.js";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";
import { type FakeOpenAI, startFakeOpenAI } from "./support/fake-openai.js";
import { deltaText, scriptedModel, textParts, untilEnd, usage, userWithConversation } from "./support/runs.js";

const toolCalls = (events: RunEvent[]) => events.filter((e): e is ToolCallEvent => e.type === "tool_call");

describe.each(engines)("run tools on %s", (engine) => {
  let fake: FakeOpenAI | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it("round-trips a registered tool with the AI SDK's mock model", async () => {
    const model = scriptedModel(
      [
        ...textParts(["Считаю."], { finish: false }),
        { type: "tool-call", toolCallId: "call-1", toolName: "add", input: JSON.stringify({ a: 2, b: 3 }) },
        { type: "finish", usage: usage(5, 5), finishReason: { unified: "tool-calls", raw: "tool_calls" } },
      ],
      textParts(["Сумма: ", "5 ✅"]),
    );
    const add = tool({
      description: "Adds two numbers",
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute: async ({ a, b }) => ({ sum: a + b }),
    });
    const convo = await openTestConvo(engine, {
      runs: { tools: { add }, models: { models: { model }, defaultModel: "model" } },
    });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "2 + 3?" });
    const events = await untilEnd(convo, userId, run.id);
    const [call] = toolCalls(events);
    expect(call).toMatchObject({
      name: "add",
      arguments: { a: 2, b: 3 },
      result: { sum: 5 },
      success: true,
      toolCallId: "call-1",
    });
    expect(call?.durationMs).toBeGreaterThanOrEqual(0);
    const done = events.at(-1);
    expect(done?.type).toBe("done");
    expect(done?.content).toBe("Считаю.\n\nСумма: 5 ✅");
    expect(deltaText(events)).toBe(done?.content);
    expect(done).toMatchObject({ usage: { inputTokens: 16, outputTokens: 27, totalTokens: 43 } });
    // The second model call saw the tool's result.
    const secondPrompt = JSON.stringify(model.doStreamCalls[1]?.prompt);
    expect(secondPrompt).toContain('"sum":5');
    // The events come in the order they happened: text, tool call, text, done.
    const order = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);
    expect(order).toEqual(["thinking", "delta", "tool_call", "delta", "done"]);
  });

  it("answers the time with the offline model's current_time round trip, in Russian", async () => {
    const clock = testClock(new Date("2026-03-01T10:00:00Z"));
    const convo = await openTestConvo(engine, { clock: clock.now, runs: { models: { env: {}, offline: { chunkDelayMs: 1 } } } });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "Который час в Europe/Moscow? ⏰" });
    expect(run.model).toBe("offline");
    const events = await untilEnd(convo, userId, run.id);
    const [call] = toolCalls(events);
    expect(call).toMatchObject({
      name: "current_time",
      arguments: { timeZone: "Europe/Moscow" },
      success: true,
      result: { iso: "2026-03-01T10:00:00.000Z", timeZone: "Europe/Moscow", local: "2026-03-01 13:00:00" },
    });
    const done = events.at(-1);
    expect(done?.content).toBe("Сейчас 2026-03-01 13:00:00 (Europe/Moscow). ⏰");
    expect(deltaText(events)).toBe(done?.content);
    // Reasoning is coalesced like text: a busy machine may store it in more than one event.
    const thinking = events
      .filter((e) => e.type === "thinking")
      .map((e) => e.content ?? "")
      .join("");
    expect(thinking).toContain("Пользователь спрашивает время — вызову current_time.");
    const [assistant] = await rawQuery<{ content: string }>(convo, "SELECT content FROM messages WHERE role = 'assistant'");
    expect(assistant?.content).toBe(done?.content);
  });

  it("turns a failing tool into a tool_call with success false, and the run still answers", async () => {
    const convo = await openTestConvo(engine, { runs: { models: { env: {}, offline: { chunkDelayMs: 0 } } } });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "What time is it on Mars/Olympus?" });
    const events = await untilEnd(convo, userId, run.id);
    const [call] = toolCalls(events);
    expect(call).toMatchObject({ name: "current_time", success: false, arguments: { timeZone: "Mars/Olympus" } });
    expect(String(call?.result)).toMatch(/time zone/i);
    expect(events.at(-1)?.type).toBe("done");
    expect(events.at(-1)?.content).toMatch(/^The tool current_time failed/);
  });

  it("searches only the user's own earlier conversations with the offline model's search_history", async () => {
    const convo = await openTestConvo(engine, { runs: { models: { env: {}, offline: { chunkDelayMs: 0 } } } });
    const me = await userWithConversation(convo);
    await convo.messages.append(me.userId, me.conversationId, { role: "user", content: "Обожаю пиццу с ананасами 🍕" });
    await convo.conversations.close(me.userId, me.conversationId);
    const stranger = await userWithConversation(convo);
    await convo.messages.append(stranger.userId, stranger.conversationId, { role: "user", content: "Тоже люблю пиццу" });
    const current = await convo.conversations.create(me.userId);
    const { run } = await convo.runs.start(me.userId, current.id, { content: "Помнишь, что я говорил про «пиццу»?" });
    const events = await untilEnd(convo, me.userId, run.id);
    const [call] = toolCalls(events);
    expect(call).toMatchObject({ name: "search_history", arguments: { query: "пиццу" }, success: true });
    const hits = (call!.result as { hits: { kind: string; content: string; conversationId: string }[] }).hits;
    // The message, and its conversation (titled from that message: titles and summaries are searched too).
    // (The conversation's summary, written in the background after the close, may be part of its hit.)
    expect(hits.map((h) => h.kind).sort()).toEqual(["conversation", "message"]);
    expect(hits.find((h) => h.kind === "message")?.content).toBe("Обожаю пиццу с ананасами 🍕");
    expect(hits.find((h) => h.kind === "conversation")?.content).toMatch(/^Обожаю пиццу с ананасами 🍕/);
    expect(hits.every((h) => h.conversationId === me.conversationId)).toBe(true);
    expect(events.at(-1)?.content).toContain("Обожаю пиццу с ананасами 🍕");
    expect(events.at(-1)?.content).not.toContain("Тоже люблю");
  });

  it("round-trips a tool call through a local OpenAI-compatible server speaking the real SSE wire format", async () => {
    fake = await startFakeOpenAI({
      toolName: "current_time",
      argumentPieces: ['{"timeZone":', '"Europe/Moscow"}'],
      answerPieces: ["Сейчас ", "13:00 ", "по Москве 🕐"],
    });
    const clock = testClock(new Date("2026-03-01T10:00:00Z"));
    const convo = await openTestConvo(engine, {
      clock: clock.now,
      runs: { maxRetries: 0, models: { env: {}, openai: { baseURL: fake.baseURL, apiKey: "sk-test" } } },
    });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "Который час?", model: "openai:fake-model" });
    const events = await untilEnd(convo, userId, run.id);
    expect(events.at(-1)).toMatchObject({
      type: "done",
      content: "Сейчас 13:00 по Москве 🕐",
      model: "openai:fake-model",
      usage: { inputTokens: 100, outputTokens: 20, totalTokens: 120 },
    });
    expect(deltaText(events)).toBe("Сейчас 13:00 по Москве 🕐");
    const [call] = toolCalls(events);
    expect(call).toMatchObject({
      name: "current_time",
      arguments: { timeZone: "Europe/Moscow" },
      result: { local: "2026-03-01 13:00:00" },
      success: true,
    });
    expect(fake.requests).toHaveLength(2);
    const [first, second] = fake.requests as [FakeOpenAI["requests"][number], FakeOpenAI["requests"][number]];
    expect(first.headers.authorization).toBe("Bearer sk-test");
    expect(first.body).toMatchObject({ model: "fake-model", stream: true });
    const offered = (first.body.tools as { function: { name: string } }[]).map((t) => t.function.name).sort();
    expect(offered).toEqual(["current_time", "search_history"]);
    const lastMessage = (second.body.messages as { role: string; content: string; tool_call_id: string }[]).at(-1);
    expect(lastMessage).toMatchObject({ role: "tool", tool_call_id: "call_fake_1" });
    expect(lastMessage?.content).toContain("13:00:00");
  });
});

import { APICallError } from "@ai-sdk/provider";
import { MockLanguageModelV3 } from "ai/test";
import { describe, expect, it } from "vitest";
import type { ConvoOptions } from "../src/index.js";
import { engines, openTestConvo, rawQuery } from "./support/engines.js";
import { deltaText, gate, scriptedModel, textParts, untilEnd, userWithConversation, waitForEventType } from "./support/runs.js";

const RUSSIAN = "Привет! Это ответ по-русски: ёжик в тумане 🦔✨, «кавычки» и 中文.";

const withModels = (models: Record<string, MockLanguageModelV3>, runs: ConvoOptions["runs"] = {}): Partial<ConvoOptions> => ({
  runs: { ...runs, models: { models, defaultModel: Object.keys(models)[0] }, maxRetries: 0 },
});

describe.each(engines)("runs on %s", (engine) => {
  it("answers the start before the model produces anything, then thinking → delta… → done, Russian intact", async () => {
    const go = gate();
    const pieces = Array.from(RUSSIAN).map((ch) => ch); // code points, streamed one by one
    const model = scriptedModel([go.promise, ...textParts(pieces, { reasoning: "Думаю… 🤔" })]);
    const convo = await openTestConvo(engine, withModels({ mock: model }));
    const { userId, conversationId } = await userWithConversation(convo);

    const { run, created, message } = await convo.runs.start(userId, conversationId, { content: "Скажи что-нибудь 🙂" });
    expect(created).toBe(true);
    expect(run.status).toBe("running");
    expect(run.model).toBe("mock");
    expect(message.content).toBe("Скажи что-нибудь 🙂");
    const early = await convo.runs.events(userId, run.id);
    expect(early.events.map((e) => [e.seq, e.type])).toEqual([[1, "thinking"]]);
    expect(early.events[0]).toMatchObject({ phase: "started", model: "mock", userMessageId: message.id, content: null });
    expect(early.finished).toBe(false);

    go.open();
    const events = await untilEnd(convo, userId, run.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("thinking");
    expect(types[1]).toBe("thinking");
    expect(events[1]).toMatchObject({ phase: "reasoning", content: "Думаю… 🤔" });
    expect(types.at(-1)).toBe("done");
    expect(types.slice(2, -1).every((t) => t === "delta")).toBe(true);

    const done = events.at(-1);
    if (done?.type !== "done") throw new Error("no done event");
    expect(deltaText(events)).toBe(RUSSIAN);
    expect(done.content).toBe(RUSSIAN);
    expect(done.model).toBe("mock");
    expect(done.usage).toEqual({ inputTokens: 11, outputTokens: 22, totalTokens: 33 });
    expect(done.processingTimeMs).toBeGreaterThanOrEqual(0);

    const finished = await convo.runs.get(userId, run.id);
    expect(finished).toMatchObject({
      status: "done",
      finalResponse: RUSSIAN,
      usage: { inputTokens: 11, outputTokens: 22, totalTokens: 33 },
      assistantMessageId: done.assistantMessageId,
      leaseExpiresAt: null,
    });
    const detail = await convo.conversations.get(userId, conversationId);
    expect(detail.messages.map((m) => [m.seq, m.role, m.content, m.runId])).toEqual([
      [1, "user", "Скажи что-нибудь 🙂", null],
      [2, "assistant", RUSSIAN, run.id],
    ]);
    const page = await convo.runs.events(userId, run.id, { after: done.seq });
    expect(page).toMatchObject({ events: [], finished: true, status: "done", nextAfter: done.seq });
  });

  it("coalesces a 5,000-character answer streamed char by char into few delta rows, exactly", async () => {
    const unit = "Съешь же ещё этих мягких французских булок 🥐, да выпей чаю. ";
    let text = "";
    while (text.length < 5_000) text += unit;
    text = text.slice(0, 5_000);
    // UTF-16 code units one by one: emoji arrive as two lone halves.
    const pieces = text.split("");
    const convo = await openTestConvo(engine, withModels({ mock: scriptedModel(textParts(pieces)) }));
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "long" });
    const events = await untilEnd(convo, userId, run.id);
    const deltas = events.filter((e) => e.type === "delta");
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.length).toBeLessThan(60);
    expect(deltaText(events)).toBe(text);
    expect(events.at(-1)).toMatchObject({ type: "done", content: text });
    const [stored] = await rawQuery<{ content: string }>(convo, "SELECT content FROM messages WHERE role = 'assistant'");
    expect(stored?.content).toBe(text);
  });

  it("ends a run whose provider fails with an error event, no assistant message, the user message once", async () => {
    const failing = new MockLanguageModelV3({
      doStream: async () => {
        throw new APICallError({
          message: "Invalid API key",
          url: "https://api.example.test/v1/chat",
          requestBodyValues: {},
          statusCode: 401,
          isRetryable: false,
        });
      },
    });
    const errors: unknown[] = [];
    const convo = await openTestConvo(engine, { ...withModels({ failing }), onBackgroundError: (e) => errors.push(e) });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "hello", clientMessageId: "m-1" });
    const events = await untilEnd(convo, userId, run.id);
    const last = events.at(-1);
    expect(last).toMatchObject({ type: "error", code: "MODEL_FAILED" });
    expect(last?.content).toContain("Invalid API key");
    expect(last?.content).toContain("401");
    const stored = await convo.runs.get(userId, run.id);
    expect(stored.status).toBe("error");
    expect(stored.error).toBe(last?.content);
    expect(stored.assistantMessageId).toBeNull();
    const messages = await rawQuery<{ role: string }>(convo, "SELECT role FROM messages ORDER BY seq");
    expect(messages).toEqual([{ role: "user" }]);
    expect(errors.some((e) => (e as Error).name === "RunFailure")).toBe(true);
    // A retried start answers the failed run: the message is not stored twice.
    const retry = await convo.runs.start(userId, conversationId, { content: "hello", clientMessageId: "m-1" });
    expect(retry).toMatchObject({ created: false, run: { id: run.id, status: "error" } });
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(1);
  });

  it("keeps the deltas of a stream that breaks midway and ends it as error", async () => {
    const model = scriptedModel([
      ...textParts(["Начало ", "ответа"], { finish: false }),
      { type: "error", error: new Error("connection reset by peer") },
    ]);
    const convo = await openTestConvo(engine, withModels({ model }));
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "go" });
    const events = await untilEnd(convo, userId, run.id);
    expect(deltaText(events)).toBe("Начало ответа");
    expect(events.at(-1)).toMatchObject({ type: "error", code: "MODEL_FAILED" });
    expect(events.at(-1)?.content).toContain("connection reset by peer");
    expect(await rawQuery(convo, "SELECT 1 FROM messages WHERE role = 'assistant'")).toHaveLength(0);
  });

  it("cancels mid-stream: cancelled, the deltas so far kept, no assistant message", async () => {
    const hold = gate();
    const model = scriptedModel([...textParts(["Первая часть. "], { finish: false }), hold.promise, ...textParts(["Вторая."])]);
    const convo = await openTestConvo(engine, withModels({ model }));
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "go" });
    await waitForEventType(convo, userId, run.id, ["delta"]);
    const cancelling = await convo.runs.cancel(userId, run.id);
    expect(cancelling.cancelRequestedAt).toBeInstanceOf(Date);
    const events = await untilEnd(convo, userId, run.id);
    hold.open();
    expect(events.at(-1)).toMatchObject({ type: "cancelled" });
    expect(deltaText(events)).toBe("Первая часть. ");
    const stored = await convo.runs.get(userId, run.id);
    expect(stored).toMatchObject({ status: "cancelled", assistantMessageId: null, finalResponse: null });
    expect(await rawQuery(convo, "SELECT role FROM messages")).toEqual([{ role: "user" }]);
    // Cancelling again, or a finished run, changes nothing.
    expect((await convo.runs.cancel(userId, run.id)).status).toBe("cancelled");
  });

  it("refuses a second start while a run is running (RUN_IN_PROGRESS) and stores nothing", async () => {
    const hold = gate();
    const convo = await openTestConvo(engine, withModels({ model: scriptedModel([hold.promise, ...textParts(["ok"])]) }));
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "first" });
    await expect(convo.runs.start(userId, conversationId, { content: "second" })).rejects.toMatchObject({
      code: "RUN_IN_PROGRESS",
      status: 409,
      details: { runId: run.id },
    });
    expect(await rawQuery(convo, "SELECT content FROM messages")).toEqual([{ content: "first" }]);
    expect((await convo.conversations.summary(userId, conversationId)).messageCount).toBe(1);
    hold.open();
    await untilEnd(convo, userId, run.id);
    const next = await convo.runs.start(userId, conversationId, { content: "third" });
    expect(next.created).toBe(true);
    await untilEnd(convo, userId, next.run.id);
    const list = await convo.runs.list(userId, conversationId, { limit: 1 });
    expect(list.items.map((r) => r.id)).toEqual([next.run.id]);
    expect(list.hasMore).toBe(true);
    const rest = await convo.runs.list(userId, conversationId, { limit: 1, cursor: list.nextCursor ?? undefined });
    expect(rest.items.map((r) => r.id)).toEqual([run.id]);
    expect(rest.hasMore).toBe(false);
  });

  it("answers a retried clientMessageId with the same run, one message, also when retries race", async () => {
    const hold = gate();
    const convo = await openTestConvo(engine, withModels({ model: scriptedModel([hold.promise, ...textParts(["ok"])]) }));
    const { userId, conversationId } = await userWithConversation(convo);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => convo.runs.start(userId, conversationId, { content: "hi", clientMessageId: "c-42" })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    expect(await rawQuery(convo, "SELECT 1 FROM runs")).toHaveLength(1);
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(1);
    hold.open();
    await untilEnd(convo, userId, results[0]!.run.id);
  });

  it("limits running runs per user and per node with 429, storing nothing", async () => {
    const hold = gate();
    const model = scriptedModel([hold.promise, ...textParts(["ok"])]);
    const convo = await openTestConvo(engine, withModels({ model }, { maxRunsPerUser: 1, maxRunsPerNode: 2 }));
    const { userId, conversationId } = await userWithConversation(convo);
    const other = await convo.conversations.create(userId);
    const { run } = await convo.runs.start(userId, conversationId, { content: "a" });
    await expect(convo.runs.start(userId, other.id, { content: "b" })).rejects.toMatchObject({
      code: "RATE_LIMITED",
      status: 429,
      details: { limit: "user", max: 1 },
    });
    const second = await userWithConversation(convo);
    const { run: run2 } = await convo.runs.start(second.userId, second.conversationId, { content: "c" });
    const third = await userWithConversation(convo);
    await expect(convo.runs.start(third.userId, third.conversationId, { content: "d" })).rejects.toMatchObject({
      code: "RATE_LIMITED",
      details: { limit: "node", max: 2 },
    });
    expect(await rawQuery(convo, "SELECT content FROM messages ORDER BY content")).toEqual([{ content: "a" }, { content: "c" }]);
    hold.open();
    await untilEnd(convo, userId, run.id);
    await untilEnd(convo, second.userId, run2.id);
  });

  it("keeps the per-user limit exact under concurrent starts, with and without a clientMessageId", async () => {
    const hold = gate();
    const model = scriptedModel([hold.promise, ...textParts(["ok"])]);
    const convo = await openTestConvo(engine, withModels({ model }, { maxRunsPerUser: 3, maxRunsPerNode: 100 }));
    const { userId } = await userWithConversation(convo);
    const targets = await Promise.all(Array.from({ length: 12 }, () => convo.conversations.create(userId)));
    const results = await Promise.allSettled(
      targets.map((c, i) =>
        convo.runs.start(userId, c.id, { content: `m${i}`, ...(i % 2 === 0 ? { clientMessageId: `client-${i}` } : {}) }),
      ),
    );
    const started = results.filter((r) => r.status === "fulfilled");
    expect(started).toHaveLength(3);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "RATE_LIMITED", details: { limit: "user", max: 3 } });
    }
    // A refused start stores nothing: three user messages, three runs.
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(3);
    expect(await rawQuery(convo, "SELECT 1 FROM runs WHERE status = 'running'")).toHaveLength(3);
    hold.open();
    for (const r of started) await untilEnd(convo, userId, (r as PromiseFulfilledResult<{ run: { id: string } }>).value.run.id);
  });

  it("starts one run of concurrent starts in one conversation; the others are RUN_IN_PROGRESS naming it, storing nothing", async () => {
    const hold = gate();
    const model = scriptedModel([hold.promise, ...textParts(["ok"])]);
    const convo = await openTestConvo(engine, withModels({ model }, { maxRunsPerUser: 10, maxRunsPerNode: 100 }));
    const { userId, conversationId } = await userWithConversation(convo);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => convo.runs.start(userId, conversationId, { content: `m${i}` })),
    );
    const started = results.filter((r) => r.status === "fulfilled");
    expect(started).toHaveLength(1);
    const runId = (started[0] as PromiseFulfilledResult<{ run: { id: string } }>).value.run.id;
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "RUN_IN_PROGRESS", details: { runId } });
    }
    // One user message at seq 1 (no gap from a refused start), one run, one first event.
    expect(await rawQuery(convo, "SELECT seq FROM messages")).toEqual([{ seq: 1 }]);
    expect((await convo.conversations.get(userId, conversationId)).messageCount).toBe(1);
    expect(await rawQuery(convo, "SELECT 1 FROM runs")).toHaveLength(1);
    expect(await rawQuery(convo, "SELECT seq FROM run_events")).toEqual([{ seq: 1 }]);
    hold.open();
    await untilEnd(convo, userId, runId);
  });

  it("ends a run whose conversation was closed meanwhile as error CONVERSATION_CLOSED, storing no answer", async () => {
    const hold = gate();
    const [streamStart, textStart, ...after] = textParts(["late"]);
    const model = scriptedModel([
      streamStart!,
      textStart!,
      { type: "text-delta", id: "t", delta: "early " },
      hold.promise,
      ...after,
    ]);
    const convo = await openTestConvo(engine, withModels({ model }));
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "hi" });
    await waitForEventType(convo, userId, run.id, ["delta"]);
    await convo.conversations.close(userId, conversationId);
    hold.open();
    const events = await untilEnd(convo, userId, run.id);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "CONVERSATION_CLOSED" });
    expect(await convo.runs.get(userId, run.id)).toMatchObject({ status: "error", assistantMessageId: null });
    expect(await rawQuery(convo, "SELECT role FROM messages ORDER BY seq")).toEqual([{ role: "user" }]);
  });

  it("refuses an unknown model or a bad input before storing anything", async () => {
    const convo = await openTestConvo(engine, { runs: { models: { env: {} } } });
    const { userId, conversationId } = await userWithConversation(convo);
    await expect(convo.runs.start(userId, conversationId, { content: "x", model: "nope:model" })).rejects.toMatchObject({
      code: "UNKNOWN_MODEL",
      status: 422,
    });
    await expect(convo.runs.start(userId, conversationId, { content: "x", model: "openai:gpt-4o-mini" })).rejects.toMatchObject({
      code: "UNKNOWN_MODEL",
      message: expect.stringContaining("OPENAI_API_KEY"),
    });
    await expect(convo.runs.start(userId, conversationId, { content: "x", model: "gpt-4o" })).rejects.toMatchObject({
      code: "UNKNOWN_MODEL",
    });
    await expect(convo.runs.start(userId, conversationId, { content: "" })).rejects.toMatchObject({ status: 422 });
    await expect(
      convo.runs.start(userId, conversationId, { content: "x", toolChoice: "sometimes" as "auto" }),
    ).rejects.toMatchObject({ status: 422 });
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(0);
    expect(await rawQuery(convo, "SELECT 1 FROM runs")).toHaveLength(0);
    // Another user's conversation and run are not found.
    const stranger = await userWithConversation(convo);
    await expect(convo.runs.start(userId, stranger.conversationId, { content: "x" })).rejects.toMatchObject({ status: 404 });
    const { run } = await convo.runs.start(stranger.userId, stranger.conversationId, { content: "mine" });
    await expect(convo.runs.get(userId, run.id)).rejects.toMatchObject({ status: 404 });
    await expect(convo.runs.events(userId, run.id)).rejects.toMatchObject({ status: 404 });
    await expect(convo.runs.cancel(userId, run.id)).rejects.toMatchObject({ status: 404 });
    await expect(convo.runs.follow(userId, run.id)).rejects.toMatchObject({ status: 404 });
    expect(await convo.runs.ownerOf(run.id)).toBe(stranger.userId);
    await untilEnd(convo, stranger.userId, run.id);
  });

  it("ends runs on close as error 'interrupted: node shutting down', keeping their deltas", async () => {
    const hold = gate();
    const model = scriptedModel([...textParts(["Часть "], { finish: false }), hold.promise]);
    const convo = await openTestConvo(engine, withModels({ model }));
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "go" });
    await waitForEventType(convo, userId, run.id, ["delta"]);
    await convo.runs.close();
    const rows = await rawQuery<{ type: string; content: string | null }>(
      convo,
      `SELECT type, content FROM run_events WHERE run_id = '${run.id}' ORDER BY seq`,
    );
    expect(rows.at(-1)).toEqual({ type: "error", content: "interrupted: node shutting down" });
    expect(rows.filter((r) => r.type === "delta").map((r) => r.content)).toEqual(["Часть "]);
    await expect(convo.runs.start(userId, conversationId, { content: "again" })).rejects.toMatchObject({
      code: "NODE_SHUTTING_DOWN",
    });
    hold.open();
  });
});

/**
 * Background runs over HTTP, black-box against a real server on an ephemeral port:
 * start (202 at once), poll and long-poll the events, follow them as server-sent events
 * and resume after a drop, cancel, the one-run-per-conversation rule and retries, a
 * failing provider, tool calls (a local OpenAI-compatible server speaking the real wire
 * format, and the AI SDK's mock model), and following a whole conversation.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { LanguageModelV3StreamPart } from "@ai-sdk/provider";
import type { ConvoOptions } from "@convo/core";
import { MockLanguageModelV3 } from "ai/test";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "../../core/test/support/fake-openai.js";
import { gate, pause, type ScriptItem, scriptedModel, textParts, usage } from "../../core/test/support/runs.js";
import { counter } from "./support/cli.js";
import {
  deltas,
  heldModel,
  type Json,
  openSse,
  openSseOrAnswer,
  pollToEnd,
  runEventWire,
  type SseEvent,
  until,
  userAndConversation,
  within,
} from "./support/runs-http.js";
import { engines, startTestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Convo options with mock models registered (the first is the default) and no retries. */
const mockRuns = (models: Record<string, MockLanguageModelV3>): Partial<ConvoOptions> => ({
  runs: { maxRetries: 0, models: { env: {}, models, defaultModel: Object.keys(models)[0] } },
});

/** Convo options for the built-in offline model at a given pace. */
const offlineRuns = (chunkDelayMs: number): Partial<ConvoOptions> => ({
  runs: { models: { env: {}, offline: { chunkDelayMs } } },
});

const text = (delta: string): LanguageModelV3StreamPart => ({ type: "text-delta", id: "t", delta });
const streamStart: LanguageModelV3StreamPart[] = [
  { type: "stream-start", warnings: [] },
  { type: "text-start", id: "t" },
];
const streamEnd: LanguageModelV3StreamPart[] = [
  { type: "text-end", id: "t" },
  { type: "finish", usage: usage(), finishReason: { unified: "stop", raw: "stop" } },
];

/** SSE events of a run, parsed, each checked against its exact wire text. */
function runEvents(received: SseEvent[]): Json[] {
  return received.map((message) => {
    const event = JSON.parse(message.data);
    expect(message.raw).toBe(runEventWire(event));
    expect(message.event).toBe(event.type);
    expect(message.id).toBe(String(event.seq));
    return event;
  });
}

const withoutKeepAlives = (wire: string) => wire.replaceAll(": keep-alive\n\n", "");

describe.each(engines)("runs over HTTP on %s", (engine) => {
  it("answers the start with 202 before the model produces anything; polling shows thinking → delta… → done, Russian intact", async () => {
    // Pieces as a provider sends them, one emoji split between two of them (stored apart).
    const pieces = ["Привет! ", "Это ответ ", "по-русски: ", "ёжик в тумане 🦔✨, ", "«кавычки», 中文 и мир \uD83C", "\uDF0D!"];
    const answer = pieces.join("");
    expect(answer).toContain("мир 🌍!");
    const script = textParts(pieces, { reasoning: "Думаю… 🤔" }).flatMap((part): ScriptItem[] =>
      part.type === "text-delta" && /[\uD800-\uDBFF]$/.test(part.delta) ? [part, pause(120)] : [part],
    );
    const release = gate();
    const model = heldModel(release.promise, script);
    const { api } = await startTestServer(engine, { convoOptions: mockRuns({ mock: model }) });
    const { conversationId } = await userAndConversation(api);

    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, {
      body: { content: "Расскажи что-нибудь 🙂" },
    });
    expect(started.status, started.text).toBe(202);
    const { runId, userMessageId } = started.json;
    expect(started.json).toEqual({ runId: expect.stringMatching(UUID), status: "running", conversationId, userMessageId });
    expect(userMessageId).toMatch(UUID);
    expect(started.headers.get("location")).toBe(`/v1/runs/${runId}`);

    // The model has produced nothing: the only event is the one stored with the start.
    const early = await api("GET", `/v1/runs/${runId}/events?after=0`);
    expect(early.status).toBe(200);
    expect(early.json).toMatchObject({ status: "running", finished: false, hasMore: false, nextAfter: 1 });
    expect(early.json.events).toEqual([
      expect.objectContaining({ runId, seq: 1, type: "thinking", content: null, phase: "started", model: "mock", userMessageId }),
    ]);
    const running = await api("GET", `/v1/runs/${runId}`);
    expect(running.json).toMatchObject({ id: runId, status: "running", finalResponse: null, lastEventSeq: 1, finishedAt: null });

    release.open();
    const events = [...early.json.events, ...(await pollToEnd(api, runId, 1))];
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(["thinking", "thinking"]);
    expect(events[1]).toMatchObject({ phase: "reasoning", content: "Думаю… 🤔" });
    expect(types.at(-1)).toBe("done");
    expect(types.slice(2, -1).length).toBeGreaterThan(0);
    expect(types.slice(2, -1).every((t) => t === "delta")).toBe(true);
    // The emoji split between two provider chunks is stored whole, in the later delta.
    const contents: string[] = events.filter((ev) => ev.type === "delta").map((ev) => ev.content);
    expect(
      contents.some((c, i) => c.endsWith("мир ") && contents[i + 1]?.startsWith("🌍!")),
      JSON.stringify(contents),
    ).toBe(true);

    const done = events.at(-1);
    expect(deltas(events)).toBe(answer);
    expect(done).toMatchObject({
      content: answer,
      model: "mock",
      usage: { inputTokens: 11, outputTokens: 22, totalTokens: 33 },
      finishReason: "stop",
      assistantMessageId: expect.stringMatching(UUID),
    });
    expect(done.processingTimeMs).toBeGreaterThanOrEqual(0);

    const record = await api("GET", `/v1/runs/${runId}`);
    expect(record.json).toMatchObject({
      id: runId,
      conversationId,
      status: "done",
      finalResponse: answer,
      model: "mock",
      usage: { inputTokens: 11, outputTokens: 22, totalTokens: 33 },
      processingTimeMs: done.processingTimeMs,
      error: null,
      userMessageId,
      assistantMessageId: done.assistantMessageId,
      lastEventSeq: done.seq,
    });
    expect(record.json.finishedAt).not.toBeNull();

    const conversation = await api("GET", `/v1/conversations/${conversationId}`);
    expect(conversation.json.messages.map((m: Json) => [m.seq, m.id, m.role, m.content])).toEqual([
      [1, userMessageId, "user", "Расскажи что-нибудь 🙂"],
      [2, done.assistantMessageId, "assistant", answer],
    ]);
    const list = await api("GET", `/v1/conversations/${conversationId}/runs`);
    expect(list.json).toEqual({ runs: [record.json], hasMore: false, nextCursor: null });
    // The events stay readable after the end, the same ones.
    expect((await api("GET", `/v1/runs/${runId}/events`)).json.events).toEqual(events);
  });

  it("long-polls: answers as soon as an event is stored, and with an empty page after the wait when none is", async () => {
    const first = gate();
    const second = gate();
    const model = scriptedModel([
      first.promise,
      ...streamStart,
      text("Первый кусок. "),
      second.promise,
      text("Второй кусок."),
      ...streamEnd,
    ]);
    const { api } = await startTestServer(engine, { convoOptions: mockRuns({ mock: model }) });
    const { conversationId } = await userAndConversation(api);
    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Жду" } });
    expect(started.status).toBe(202);
    const { runId } = started.json;

    // The long-poll is in flight when the model is let go. Its wait is longer than the
    // patience of `within`: answering only at the end of the wait fails the test.
    const waiting = api("GET", `/v1/runs/${runId}/events?after=1&wait=60`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.open();
    const woken = await within("the long-poll to answer once an event is stored", waiting);
    expect(woken.status).toBe(200);
    expect(woken.json).toMatchObject({ status: "running", finished: false });
    expect(woken.json.events.map((e: Json) => [e.seq, e.type, e.content])).toEqual([[2, "delta", "Первый кусок. "]]);
    expect(woken.json.nextAfter).toBe(2);

    // Nothing comes (the model is held): an empty page once the wait is over.
    const idle = await api("GET", `/v1/runs/${runId}/events?after=2&wait=1`);
    expect(idle.status).toBe(200);
    expect(idle.json).toEqual({ events: [], hasMore: false, nextAfter: 2, status: "running", finished: false });

    second.open();
    const rest = await pollToEnd(api, runId, 2);
    expect(rest.at(-1)).toMatchObject({ type: "done", content: "Первый кусок. Второй кусок." });
    // A finished run answers a long-poll at once.
    const last = rest.at(-1).seq;
    const after = await within("a long-poll on a finished run", api("GET", `/v1/runs/${runId}/events?after=${last}&wait=60`));
    expect(after.json).toEqual({ events: [], hasMore: false, nextAfter: last, status: "done", finished: true });
    // `limit` pages, `hasMore` says so, and a wait beyond the maximum is refused.
    const paged = await api("GET", `/v1/runs/${runId}/events?after=0&limit=2`);
    expect(paged.json).toMatchObject({ hasMore: true, nextAfter: 2, finished: false, status: "done" });
    expect(paged.json.events.map((e: Json) => e.seq)).toEqual([1, 2]);
    expect((await api("GET", `/v1/runs/${runId}/events?wait=121`)).status).toBe(422);
  });

  it("streams SSE; a client that drops and resumes with Last-Event-ID or ?after= gets exactly the missing events", async () => {
    const g1 = gate();
    const g2 = gate();
    const model = scriptedModel([
      ...streamStart,
      text("Раз, "),
      g1.promise,
      text("два, "),
      text("три — "),
      g2.promise,
      text("🚀 поехали! Ёлки-палки."),
      ...streamEnd,
    ]);
    const server = await startTestServer(engine, { convoOptions: mockRuns({ mock: model }) });
    const { api, url, adminKey } = server;
    const admin = { token: adminKey };
    const { userId, conversationId } = await userAndConversation(api);
    const owner = await server.token(userId);
    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Считай" } });
    const { runId } = started.json;
    const path = `/v1/runs/${runId}/stream`;

    // First connection: the owner's token; drops after two events, mid-run.
    const a = await openSse(url, path, { token: owner });
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(a.headers.get("cache-control")).toContain("no-cache");
    const firstTwo = runEvents([(await a.next()) as SseEvent, (await a.next()) as SseEvent]);
    expect(firstTwo.map((e) => [e.seq, e.type, e.content])).toEqual([
      [1, "thinking", null],
      [2, "delta", "Раз, "],
    ]);
    a.close();

    // The server lets go of the dropped client: no open stream, no follower left.
    await until("the dropped stream to be closed on the server", async () => {
      const metrics = await api("GET", "/metrics", { token: null });
      return counter(metrics.text, "convo_sse_streams_open") === 0 && server.convo.runs.stats.followers === 0;
    });

    // Meanwhile the run goes on.
    g1.open();
    await until(
      "the events after the drop to be stored",
      async () => (await api("GET", `/v1/runs/${runId}`)).json.lastEventSeq >= 3,
    );

    // Resumed after the last id seen: the missing events, then live ones, to the end.
    const b = await openSse(url, path, { token: owner, headers: { "last-event-id": "2" } });
    const resumedFirst = runEvents([(await b.next()) as SseEvent]);
    expect(resumedFirst[0].seq).toBe(3);
    g2.open();
    const resumed = [...resumedFirst, ...runEvents(await b.rest())];
    expect(resumed.at(-1).type).toBe("done");
    expect(await b.next()).toBeUndefined(); // ended by the server after the terminal event
    const seen = [...firstTwo, ...resumed];
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    const stored = (await api("GET", `/v1/runs/${runId}/events`)).json.events;
    expect(seen).toEqual(stored);
    expect(deltas(seen)).toBe("Раз, два, три — 🚀 поехали! Ёлки-палки.");
    expect(resumed.at(-1).content).toBe("Раз, два, три — 🚀 поехали! Ёлки-палки.");
    // The stream's whole text is these events' wire form and nothing else.
    expect(withoutKeepAlives(b.text())).toBe(resumed.map(runEventWire).join(""));

    // ?after= resumes the same way (admin key); Last-Event-ID wins when both are sent.
    const c = await openSse(url, `${path}?after=3`, admin);
    expect(runEvents(await c.rest())).toEqual(stored.slice(3));
    const d = await openSse(url, `${path}?after=1`, { ...admin, headers: { "last-event-id": String(stored.length - 1) } });
    expect(runEvents(await d.rest())).toEqual(stored.slice(-1));
    // From the start, a finished run streams everything and ends.
    const e = await openSse(url, path, admin);
    expect(runEvents(await e.rest())).toEqual(stored);
    // Nothing left after the end of a finished run: 204, so EventSource stops reconnecting.
    const past = await openSseOrAnswer(url, `${path}?after=${stored.length}`, admin);
    expect("answer" in past && past.answer.status).toBe(204);

    // Refusals come as plain JSON before any stream.
    const stranger = await server.createUser();
    for (const [label, target, token] of [
      ["unknown run, admin", `/v1/runs/${randomUUID()}/stream`, undefined],
      ["unknown run, owner", `/v1/runs/${randomUUID()}/stream`, owner],
      ["another user's run", path, await server.token(stranger.id)],
    ] as const) {
      const refused = await openSseOrAnswer(url, target, { token: token ?? server.adminKey });
      if (!("answer" in refused)) throw new Error(`${label}: a stream was opened`);
      expect(refused.answer.status, label).toBe(404);
      expect(refused.answer.headers.get("content-type"), label).toContain("application/json");
      expect(refused.answer.json.error.code, label).toBe("NOT_FOUND");
    }
    const named = await openSseOrAnswer(url, path, { token: server.adminKey, headers: { "x-convo-user-id": stranger.id } });
    if (!("answer" in named)) throw new Error("an admin naming another user opened the stream");
    expect(named.answer.status).toBe(404);
    const bad = await openSseOrAnswer(url, path, { token: owner, headers: { "last-event-id": "abc" } });
    if (!("answer" in bad)) throw new Error("a stream was opened for a malformed Last-Event-ID");
    expect(bad.answer.status).toBe(400);
    expect((await api("GET", `/v1/runs/${randomUUID()}/events`, { token: owner })).status).toBe(404);
    expect((await api("GET", `/v1/runs/${runId}`, { token: await server.token(stranger.id) })).status).toBe(404);
  });

  it("cancels mid-stream: cancelled, a terminal cancelled event, deltas kept, no assistant message", async () => {
    const { api, url, adminKey } = await startTestServer(engine, { convoOptions: offlineRuns(50) });
    const { conversationId } = await userAndConversation(api);
    // The offline model repeats the message: a long one makes a long answer.
    const content = `Расскажи подробно ${"про ёжика в тумане 🦔 ".repeat(15)}`.trim();
    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content } });
    expect(started.status).toBe(202);
    const { runId } = started.json;

    const stream = await openSse(url, `/v1/runs/${runId}/stream`, { token: adminKey });
    const before: Json[] = [];
    const opening = "Вы написали: «Расскажи подробно";
    // Two deltas at least (the first is written at once, so it may be a single piece),
    // and enough text to check the opening.
    while (before.filter((e) => e.type === "delta").length < 2 || deltas(before).length < opening.length) {
      const next = await stream.next();
      if (!next) throw new Error(`the stream ended before two deltas: ${JSON.stringify(before)}`);
      before.push(...runEvents([next]));
    }
    const cancel = await api("POST", `/v1/runs/${runId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.json.id).toBe(runId);
    expect(["running", "cancelled"]).toContain(cancel.json.status);
    const after = runEvents(await stream.rest());
    const seen = [...before, ...after];
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)).toMatchObject({ type: "cancelled", content: "cancelled by request" });
    expect(seen.filter((e) => ["done", "error", "cancelled"].includes(e.type))).toHaveLength(1);

    const said = deltas(seen);
    expect(said.startsWith(opening)).toBe(true);
    expect(said).not.toContain("CONVO_MODEL"); // the end of the answer never came

    const record = await api("GET", `/v1/runs/${runId}`);
    expect(record.json).toMatchObject({
      status: "cancelled",
      finalResponse: null,
      error: "cancelled by request",
      assistantMessageId: null,
      lastEventSeq: seen.at(-1).seq,
    });
    expect(record.json.finishedAt).not.toBeNull();
    // Nothing is stored after the terminal event, however long we look.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = (await api("GET", `/v1/runs/${runId}/events`)).json;
    expect(stored.events).toEqual(seen);
    expect(stored.finished).toBe(true);
    const messages = (await api("GET", `/v1/conversations/${conversationId}/messages`)).json.messages;
    expect(messages.map((m: Json) => [m.seq, m.role, m.content])).toEqual([[1, "user", content]]);

    // Cancelling again changes nothing; the conversation takes a new run.
    const again = await api("POST", `/v1/runs/${runId}/cancel`);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(record.json);
    const next = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Ещё раз" } });
    expect(next.status).toBe(202);
    expect((await api("POST", `/v1/runs/${next.json.runId}/cancel`)).status).toBe(200);
    expect((await pollToEnd(api, next.json.runId)).at(-1).type).toBe("cancelled");
  });

  it("streams a run of more events than a page (1,100 tool calls) live and on replay, each once, in order", async () => {
    const calls = 1_100;
    const release = gate();
    const model = heldModel(
      release.promise,
      [
        { type: "stream-start", warnings: [] },
        ...Array.from(
          { length: calls },
          (_, i): LanguageModelV3StreamPart => ({
            type: "tool-call",
            toolCallId: `call-${i}`,
            toolName: "current_time",
            input: "{}",
          }),
        ),
        { type: "finish", usage: usage(), finishReason: { unified: "tool-calls", raw: "tool_calls" } },
      ],
      [...streamStart, text("Готово: 1100 раз ⏱️"), ...streamEnd],
    );
    const { api, url, adminKey } = await startTestServer(engine, { convoOptions: mockRuns({ mock: model }) });
    const { conversationId } = await userAndConversation(api);
    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Спроси время 1100 раз" } });
    const { runId } = started.json;
    const path = `/v1/runs/${runId}/stream`;
    // A live follower, connected before the flood, that reads nothing until the run has ended.
    const live = await openSse(url, path, { token: adminKey });
    release.open();
    await until("the run to finish", async () => (await api("GET", `/v1/runs/${runId}`)).json.status !== "running");
    const liveEvents = runEvents(await live.rest());

    const stored = await pollToEnd(api, runId);
    expect(stored).toHaveLength(calls + 3); // thinking, the calls, one delta, done
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.filter((e) => e.type === "tool_call")).toHaveLength(calls);
    expect(new Set(stored.filter((e) => e.type === "tool_call").map((e) => e.toolCallId)).size).toBe(calls);
    expect(stored.at(-1)).toMatchObject({ type: "done", content: "Готово: 1100 раз ⏱️" });
    expect(liveEvents).toEqual(stored);

    const replay = await openSse(url, path, { token: adminKey, headers: { "last-event-id": "777" } });
    expect(runEvents(await replay.rest())).toEqual(stored.slice(777));
    const page = await api("GET", `/v1/runs/${runId}/events?after=0&limit=1000`);
    expect(page.json).toMatchObject({ hasMore: true, nextAfter: 1000, finished: false, status: "done" });
    expect(page.json.events).toEqual(stored.slice(0, 1000));
  });

  it("cancels a run whose model has not answered yet", async () => {
    const never = gate();
    const model = heldModel(never.promise, [...streamStart, text("Не должно дойти."), ...streamEnd]);
    const { api } = await startTestServer(engine, { convoOptions: mockRuns({ mock: model }) });
    const { conversationId } = await userAndConversation(api);
    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Ну?" } });
    await until("the model to be called", async () => model.calls > 0);
    expect((await api("POST", `/v1/runs/${started.json.runId}/cancel`)).status).toBe(200);
    const events = await pollToEnd(api, started.json.runId);
    expect(events.map((e) => e.type)).toEqual(["thinking", "cancelled"]);
    expect((await api("GET", `/v1/runs/${started.json.runId}`)).json).toMatchObject({ status: "cancelled", finalResponse: null });
    const messages = (await api("GET", `/v1/conversations/${conversationId}/messages`)).json.messages;
    expect(messages.map((m: Json) => m.role)).toEqual(["user"]);
  });

  it("refuses a second start while a run is running (409 RUN_IN_PROGRESS) and other bad starts, storing nothing; a repeated clientMessageId answers 200 with the same run", async () => {
    const release = gate();
    const model = heldModel(release.promise, [...streamStart, text("Готово ✅"), ...streamEnd]);
    const server = await startTestServer(engine, {
      // One running run per user; no heartbeat, so the stored rows stay still while we compare them.
      convoOptions: {
        runs: {
          maxRetries: 0,
          maxRunsPerUser: 1,
          heartbeatMs: 3_600_000,
          models: { env: {}, models: { mock: model }, defaultModel: "mock" },
        },
      },
    });
    const { api } = server;
    const { userId, conversationId } = await userAndConversation(api);
    const path = `/v1/conversations/${conversationId}/runs`;
    const body = { content: "Первый запрос", clientMessageId: "client-msg-1" };
    const started = await api("POST", path, { body });
    expect(started.status).toBe(202);
    const { runId, userMessageId } = started.json;

    const rows = await server.dump();
    const second = await api("POST", path, { body: { content: "Второй запрос" } });
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: "RUN_IN_PROGRESS", details: { runId } });
    const retried = await api("POST", path, { body });
    expect(retried.status).toBe(200);
    expect(retried.json).toEqual({ runId, status: "running", conversationId, userMessageId });
    expect(await server.dump()).toEqual(rows);

    // Every other refusal stores nothing either.
    const newConversation = async () => (await api("POST", `/v1/users/${userId}/conversations`, { body: {} })).json.id;
    const other = await newConversation();
    const closed = await newConversation();
    expect((await api("POST", `/v1/conversations/${closed}/close`)).status).toBe(200);
    const plain = await api("POST", `/v1/conversations/${other}/messages`, {
      body: { role: "user", content: "Просто сообщение", clientMessageId: "plain-1" },
    });
    expect(plain.status).toBe(201);
    const stranger = await server.createUser();
    const rowsBefore = await server.dump();
    const refusals: [string, string, unknown, number, string, string | undefined][] = [
      ["the user's limit", other, { content: "Ещё один" }, 429, "RATE_LIMITED", undefined],
      ["an unknown model", other, { content: "Ещё один", model: "openai:gpt-4o-mini" }, 422, "UNKNOWN_MODEL", undefined],
      ["a closed conversation", closed, { content: "Ещё один" }, 409, "CONVERSATION_CLOSED", undefined],
      [
        "a message id used outside runs",
        other,
        { content: "Просто сообщение", clientMessageId: "plain-1" },
        409,
        "CLIENT_MESSAGE_ID_REUSED",
        undefined,
      ],
      ["another user's conversation", other, { content: "Чужой" }, 404, "NOT_FOUND", await server.token(stranger.id)],
    ];
    for (const [label, target, refusedBody, status, code, token] of refusals) {
      const refused = await api("POST", `/v1/conversations/${target}/runs`, { body: refusedBody, token });
      expect(refused.status, `${label}: ${refused.text}`).toBe(status);
      expect(refused.json.error.code, label).toBe(code);
    }
    expect((await api("POST", `/v1/conversations/${other}/runs`, { body: { content: "Ещё один" } })).json.error.details).toEqual({
      limit: "user",
      max: 1,
    });
    expect(await server.dump()).toEqual(rowsBefore);

    const listed = async () => (await api("GET", `/v1/conversations/${conversationId}/messages`)).json.messages;
    expect((await listed()).map((m: Json) => [m.role, m.content])).toEqual([["user", "Первый запрос"]]);
    expect((await api("GET", `/v1/conversations/${conversationId}/runs`)).json.runs.map((r: Json) => r.id)).toEqual([runId]);

    release.open();
    expect((await pollToEnd(api, runId)).at(-1).type).toBe("done");
    // After the end the retry still answers that run, now done, and stores nothing.
    const late = await api("POST", path, { body });
    expect(late.status).toBe(200);
    expect(late.json).toEqual({ runId, status: "done", conversationId, userMessageId });
    expect((await listed()).map((m: Json) => [m.role, m.content])).toEqual([
      ["user", "Первый запрос"],
      ["assistant", "Готово ✅"],
    ]);
    expect(model.calls).toBe(1);
  });

  it("ends the run as error with a clear message when the provider fails: a throwing model, and a server answering 500", async () => {
    // A model whose stream cannot even start.
    const failing = new MockLanguageModelV3({
      doStream: async () => {
        throw new Error("Провайдер недоступен: квота исчерпана");
      },
    });
    // An OpenAI-compatible server that answers every request 500.
    const requests: string[] = [];
    const broken = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { message: "The server had an error while processing your request", type: "server_error" } }),
      );
    });
    await new Promise<void>((resolve) => broken.listen(0, "127.0.0.1", resolve));
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          broken.closeAllConnections();
          broken.close(() => resolve());
        }),
    );
    const baseURL = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/v1`;
    const { api, url, adminKey } = await startTestServer(engine, {
      convoOptions: {
        runs: { maxRetries: 0, models: { env: {}, models: { failing }, defaultModel: "failing", openai: { baseURL } } },
      },
    });

    for (const [model, expected] of [
      ["failing", ["Провайдер недоступен: квота исчерпана"]],
      ["openai:some-model", ["The server had an error while processing your request", "HTTP 500"]],
    ] as const) {
      const { conversationId } = await userAndConversation(api);
      const started = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Ответь", model } });
      expect(started.status, started.text).toBe(202);
      const { runId } = started.json;
      const events = runEvents(await (await openSse(url, `/v1/runs/${runId}/stream`, { token: adminKey })).rest());
      const last = events.at(-1);
      expect(last, model).toMatchObject({ type: "error", code: "MODEL_FAILED" });
      expect(last.content).toMatch(/^the model failed: /);
      for (const part of expected) expect(last.content, model).toContain(part);
      expect(events.filter((e) => e.type === "delta")).toEqual([]);
      const record = await api("GET", `/v1/runs/${runId}`);
      expect(record.json).toMatchObject({ status: "error", error: last.content, finalResponse: null, assistantMessageId: null });
      const messages = (await api("GET", `/v1/conversations/${conversationId}/messages`)).json.messages;
      expect(messages.map((m: Json) => m.role)).toEqual(["user"]);
    }
    expect(requests).toEqual(["POST /v1/chat/completions"]);
  });

  it("round-trips a tool call through a local OpenAI-compatible server speaking the real SSE wire format", async () => {
    const fake = await startFakeOpenAI({
      toolName: "current_time",
      argumentPieces: ['{"timeZone":', '"Europe/Moscow"}'],
      answerPieces: ["Сейчас ", "полдень ", "по Москве 🕛"],
    });
    onTestFinished(() => fake.close());
    const { api } = await startTestServer(engine, {
      convoOptions: {
        runs: {
          maxRetries: 0,
          models: { env: {}, openai: { baseURL: fake.baseURL, apiKey: "sk-test" }, defaultModel: "openai:fake-model" },
        },
      },
    });
    const { conversationId } = await userAndConversation(api);
    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Который час в Москве?" } });
    expect(started.status).toBe(202);
    const events = await pollToEnd(api, started.json.runId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("thinking");
    expect(types[1]).toBe("tool_call");
    expect(types.slice(2, -1).every((t) => t === "delta")).toBe(true);
    expect(types.at(-1)).toBe("done");
    expect(events[1]).toMatchObject({
      toolCallId: "call_fake_1",
      name: "current_time",
      arguments: { timeZone: "Europe/Moscow" },
      result: {
        timeZone: "Europe/Moscow",
        iso: expect.any(String),
        local: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      },
      success: true,
      durationMs: expect.any(Number),
      content: null,
    });
    expect(events.at(-1)).toMatchObject({
      content: "Сейчас полдень по Москве 🕛",
      model: "openai:fake-model",
      usage: { inputTokens: 100, outputTokens: 20, totalTokens: 120 },
    });
    expect(deltas(events)).toBe("Сейчас полдень по Москве 🕛");
    const record = await api("GET", `/v1/runs/${started.json.runId}`);
    expect(record.json).toMatchObject({
      status: "done",
      finalResponse: "Сейчас полдень по Москве 🕛",
      model: "openai:fake-model",
    });

    // The provider saw the real requests: the tools offered, then the tool's result.
    expect(fake.requests).toHaveLength(2);
    const [first, second] = fake.requests as [FakeOpenAI["requests"][number], FakeOpenAI["requests"][number]];
    expect(first.headers.authorization).toBe("Bearer sk-test");
    expect(first.body).toMatchObject({ model: "fake-model", stream: true });
    const offered = (first.body.tools as { function: { name: string } }[]).map((t) => t.function.name).sort();
    expect(offered).toEqual(["current_time", "search_history"]);
    const toolMessage = (second.body.messages as { role: string; tool_call_id: string; content: string }[]).at(-1);
    expect(toolMessage).toMatchObject({ role: "tool", tool_call_id: "call_fake_1" });
    expect(JSON.parse(toolMessage?.content ?? "null")).toEqual(events[1].result);
  });

  it("round-trips tool calls with the AI SDK's mock model and with the offline model", async () => {
    const model = scriptedModel(
      [
        { type: "stream-start", warnings: [] },
        {
          type: "tool-call",
          toolCallId: "call-tokyo",
          toolName: "current_time",
          input: JSON.stringify({ timeZone: "Asia/Tokyo" }),
        },
        {
          type: "tool-call",
          toolCallId: "call-mars",
          toolName: "current_time",
          input: JSON.stringify({ timeZone: "Mars/Olympus" }),
        },
        { type: "finish", usage: usage(5, 7), finishReason: { unified: "tool-calls", raw: "tool_calls" } },
      ],
      [...streamStart, text("В Токио "), text("уже вечер 🌆"), ...streamEnd],
    );
    const { api } = await startTestServer(engine, {
      convoOptions: { runs: { maxRetries: 0, models: { env: {}, models: { mock: model }, offline: { chunkDelayMs: 0 } } } },
    });
    const { conversationId } = await userAndConversation(api);
    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, {
      body: { content: "Который час в Токио и на Марсе?", model: "mock" },
    });
    expect(started.status).toBe(202);
    const events = await pollToEnd(api, started.json.runId);
    const calls = events.filter((e) => e.type === "tool_call");
    expect(calls).toHaveLength(2);
    const tokyo = calls.find((c) => c.toolCallId === "call-tokyo");
    const mars = calls.find((c) => c.toolCallId === "call-mars");
    expect(tokyo).toMatchObject({ name: "current_time", arguments: { timeZone: "Asia/Tokyo" }, success: true });
    expect(tokyo.result).toMatchObject({ timeZone: "Asia/Tokyo" });
    expect(mars).toMatchObject({ name: "current_time", arguments: { timeZone: "Mars/Olympus" }, success: false });
    expect(typeof mars.result).toBe("string");
    expect(mars.result).toContain("Mars/Olympus");
    const done = events.at(-1);
    expect(done).toMatchObject({ type: "done", content: "В Токио уже вечер 🌆", usage: { inputTokens: 16, outputTokens: 29 } });
    expect(events.indexOf(done)).toBeGreaterThan(events.indexOf(mars));
    expect(deltas(events)).toBe("В Токио уже вечер 🌆");
    // The model's second call carried both results.
    const toolParts = model.doStreamCalls[1]?.prompt.filter((m) => m.role === "tool").flatMap((m) => m.content) ?? [];
    expect(toolParts.map((p) => (p.type === "tool-result" ? p.toolCallId : p.type)).sort()).toEqual(["call-mars", "call-tokyo"]);

    // The built-in offline model asks for the time itself.
    const offline = await api("POST", `/v1/conversations/${conversationId}/runs`, {
      body: { content: "Который час в Europe/Moscow?", model: "offline" },
    });
    expect(offline.status).toBe(202);
    const offlineEvents = await pollToEnd(api, offline.json.runId);
    expect(offlineEvents.find((e) => e.type === "tool_call")).toMatchObject({
      name: "current_time",
      arguments: { timeZone: "Europe/Moscow" },
      success: true,
      result: { timeZone: "Europe/Moscow" },
    });
    const offlineDone = offlineEvents.at(-1);
    expect(offlineDone.type).toBe("done");
    expect(offlineDone.content).toMatch(/^Сейчас .*\(Europe\/Moscow\)\. ⏰$/);
    expect(deltas(offlineEvents)).toBe(offlineDone.content);
  });

  it("follows a conversation: a message from another client, then the events of a run started afterwards", async () => {
    const release = gate();
    const held = heldModel(release.promise, [...streamStart, text("Поздно, но успел 🐢"), ...streamEnd]);
    // One server per test: on PGlite the tests share one database connection.
    const server = await startTestServer(engine, {
      convoOptions: { runs: { models: { env: {}, offline: { chunkDelayMs: 0 }, models: { held } } } },
    });
    const { api, url } = server;
    const { userId, conversationId } = await userAndConversation(api);
    const owner = await server.token(userId);
    const path = `/v1/conversations/${conversationId}/stream`;
    const follower = await openSse(url, path, { token: owner });
    onTestFinished(() => follower.close());
    expect(follower.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");

    const posted = await api("POST", `/v1/conversations/${conversationId}/messages`, {
      body: { role: "user", content: "Сообщение с телефона 📱" },
    });
    expect(posted.status).toBe(201);
    const first = (await follower.next()) as SseEvent;
    const message = JSON.parse(first.data);
    expect(first.raw).toBe(`event: message\nid: 1\ndata: ${JSON.stringify(message)}\n\n`);
    expect(message).toMatchObject({
      id: posted.json.id,
      seq: 1,
      role: "user",
      content: "Сообщение с телефона 📱",
      conversationId,
    });

    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Привет с ноутбука 💻" } });
    expect(started.status).toBe(202);
    const items: { event: string; data: Json; raw: string; id?: string }[] = [];
    while (!items.some((i) => i.event === "message" && i.data.role === "assistant")) {
      const next = await follower.next();
      if (!next) throw new Error(`the conversation stream ended: ${JSON.stringify(items)}`);
      items.push({ event: next.event as string, data: JSON.parse(next.data), raw: next.raw, id: next.id });
    }
    const [userItem, ...afterUser] = items;
    expect(userItem).toMatchObject({
      event: "message",
      id: "2",
      data: { seq: 2, role: "user", content: "Привет с ноутбука 💻" },
    });
    const runItems = afterUser.slice(0, -1);
    const assistantItem = afterUser.at(-1);
    expect(runItems.every((i) => i.event === "run_event" && i.id === undefined)).toBe(true);
    for (const item of runItems) expect(item.raw).toBe(`event: run_event\ndata: ${JSON.stringify(item.data)}\n\n`);
    const stored = (await api("GET", `/v1/runs/${started.json.runId}/events`)).json.events;
    expect(runItems.map((i) => i.data)).toEqual(stored);
    expect(stored.at(-1).type).toBe("done");
    expect(assistantItem).toMatchObject({
      event: "message",
      id: "3",
      data: { seq: 3, role: "assistant", content: stored.at(-1).content, id: stored.at(-1).assistantMessageId },
    });

    // A follower that arrives while a run is running gets that run from its first event.
    const other = await api("POST", `/v1/users/${userId}/conversations`, { body: {} });
    const running = await api("POST", `/v1/conversations/${other.json.id}/runs`, { body: { content: "Жду", model: "held" } });
    expect(running.status).toBe(202);
    const latecomer = await openSse(url, `/v1/conversations/${other.json.id}/stream`, { token: owner });
    onTestFinished(() => latecomer.close());
    const replay = JSON.parse(((await latecomer.next()) as SseEvent).data);
    expect(replay).toMatchObject({ runId: running.json.runId, seq: 1, type: "thinking", phase: "started" });
    release.open();
    const tail: SseEvent[] = [];
    while (tail.at(-1)?.event !== "message") tail.push((await latecomer.next()) as SseEvent);
    expect(tail.map((t) => [t.event, JSON.parse(t.data).type ?? JSON.parse(t.data).role])).toEqual([
      ["run_event", "delta"],
      ["run_event", "done"],
      ["message", "assistant"],
    ]);
    expect(JSON.parse((tail.at(-1) as SseEvent).data).content).toBe("Поздно, но успел 🐢");

    // Reconnecting with Last-Event-ID replays the messages after it.
    const again = await openSse(url, path, { token: owner, headers: { "last-event-id": "1" } });
    onTestFinished(() => again.close());
    const replayed = [(await again.next()) as SseEvent, (await again.next()) as SseEvent];
    expect(replayed.map((r) => [r.event, r.id])).toEqual([
      ["message", "2"],
      ["message", "3"],
    ]);
    // Another user's token: 404 before any stream.
    const stranger = await server.createUser();
    const refused = await openSseOrAnswer(url, path, { token: await server.token(stranger.id) });
    if (!("answer" in refused)) throw new Error("a stranger opened the conversation's stream");
    expect(refused.answer.status).toBe(404);
    expect(refused.answer.json.error.code).toBe("NOT_FOUND");
  });
});

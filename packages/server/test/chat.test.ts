/**
 * Convo as the backend of the AI SDK's `useChat`, driven by the real `Chat` class of
 * `@ai-sdk/react` 3 (the object `useChat` wraps) and `DefaultChatTransport` of `ai` 6
 * against a real server: send and stream, a cut connection resumed, a reloaded page
 * resuming from the resume route, regenerate, stop — with every chunk checked against
 * the AI SDK's own schema and against the exact key sets, and no part lost or repeated.
 */
import { Chat } from "@ai-sdk/react";
import type { ConvoOptions } from "@convo/core";
import { DefaultChatTransport, type UIMessage, type UIMessageChunk } from "ai";
import type { MockLanguageModelV3 } from "ai/test";
import { beforeAll, describe, expect, it } from "vitest";
import { gate, type ScriptItem, scriptedModel, textParts } from "../../core/test/support/runs.js";
import { type Json, until, userAndConversation, within } from "./support/runs-http.js";
import { engines, startTestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

const mockRuns = (model: MockLanguageModelV3): Partial<ConvoOptions> => ({
  runs: { maxRetries: 0, models: { env: {}, models: { mock: model }, defaultModel: "mock" } },
});
const offlineRuns: Partial<ConvoOptions> = { runs: { models: { env: {}, offline: { chunkDelayMs: 1 } } } };

/** The keys each chunk type may carry as Convo sends them: the client validates strictly, so nothing more. */
const CHUNK_KEYS: Record<string, string[]> = {
  start: ["type", "messageId"],
  "start-step": ["type"],
  "finish-step": ["type"],
  "text-start": ["type", "id"],
  "text-delta": ["type", "id", "delta"],
  "text-end": ["type", "id"],
  "reasoning-start": ["type", "id"],
  "reasoning-delta": ["type", "id", "delta"],
  "reasoning-end": ["type", "id"],
  "tool-input-available": ["type", "toolCallId", "toolName", "input", "dynamic"],
  "tool-output-available": ["type", "toolCallId", "output", "dynamic"],
  "tool-output-error": ["type", "toolCallId", "errorText", "dynamic"],
  finish: ["type", "finishReason"],
  error: ["type", "errorText"],
  abort: ["type", "reason"],
};

interface Recorded {
  url: string;
  status: number;
  headers: Headers;
  chunks: UIMessageChunk[];
  done: boolean;
}

/**
 * A fetch for the transport that records every UI message stream it reads (strictly
 * parsed), and can cut one response after `cutAfter` chunks, as a dropped connection
 * does (a TypeError, like the browser's "network error").
 */
function recordingFetch() {
  const streams: Recorded[] = [];
  let cutAfter: number | undefined;
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    const record: Recorded = { url: String(input), status: response.status, headers: response.headers, chunks: [], done: false };
    streams.push(record);
    if (!response.body || response.status !== 200) return response;
    const cut = cutAfter;
    cutAfter = undefined;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await reader.read();
        if (next.done) return controller.close();
        buffer += next.value;
        let out = "";
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          out += `${frame}\n\n`;
          if (frame.startsWith(":")) continue;
          expect(frame).toMatch(/^data: /);
          const data = frame.slice("data: ".length);
          if (data === "[DONE]") {
            record.done = true;
            continue;
          }
          const chunk = JSON.parse(data) as UIMessageChunk;
          expect(Object.keys(chunk).sort(), `keys of ${data}`).toEqual([...(CHUNK_KEYS[chunk.type] ?? ["?"])].sort());
          record.chunks.push(chunk);
          if (cut !== undefined && record.chunks.length >= cut) {
            controller.enqueue(encoder.encode(out));
            await reader.cancel();
            controller.error(new TypeError("fetch failed: network connection lost"));
            return;
          }
        }
        if (out) controller.enqueue(encoder.encode(out));
      },
      async cancel() {
        await reader.cancel();
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return {
    fetch: fetchImpl as typeof fetch,
    streams,
    cutNextAfter(chunks: number) {
      cutAfter = chunks;
    },
  };
}

function newChat(url: string, conversationId: string, adminKey: string | undefined, messages: UIMessage[] = []) {
  const recorder = recordingFetch();
  const errors: Error[] = [];
  const chat = new Chat({
    id: conversationId,
    messages,
    transport: new DefaultChatTransport({
      api: `${url}/v1/chat`,
      headers: { authorization: `Bearer ${adminKey}` },
      fetch: recorder.fetch,
    }),
    onError: (error) => errors.push(error),
  });
  return { chat, recorder, errors };
}

const textOf = (message: UIMessage | undefined) =>
  (message?.parts ?? [])
    .filter((p) => p.type === "text")
    .map((p) => (p as { text: string }).text)
    .join("");

describe.each(engines)("useChat on %s", (engine) => {
  it("sends, streams reasoning, a tool call and text, and stores the user message and the answer once", async () => {
    const { url, api, adminKey } = await startTestServer(engine, { convoOptions: offlineRuns });
    const { conversationId } = await userAndConversation(api);
    const { chat, recorder, errors } = newChat(url, conversationId, adminKey);

    await within("the chat to answer", chat.sendMessage({ text: "Который час? Europe/Moscow" }));
    expect(errors).toEqual([]);
    expect(chat.status).toBe("ready");

    const [sent] = recorder.streams;
    expect(sent!.status).toBe(200);
    expect(sent!.headers.get("content-type")).toBe("text/event-stream");
    expect(sent!.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(sent!.headers.get("cache-control")).toBe("no-cache");
    expect(sent!.headers.get("x-accel-buffering")).toBe("no");
    expect(sent!.done).toBe(true);
    const types = sent!.chunks.map((c) => c.type);
    expect(types.slice(0, 2)).toEqual(["start", "start-step"]);
    expect(types.slice(-2)).toEqual(["finish-step", "finish"]);
    expect(types).toContain("reasoning-delta");
    expect(types).toContain("tool-input-available");
    expect(types).toContain("tool-output-available");

    const runs = await api("GET", `/v1/conversations/${conversationId}/runs`);
    const run = runs.json.runs[0];
    expect(run.status).toBe("done");
    expect(sent!.chunks[0]).toEqual({ type: "start", messageId: run.id });

    const [user, answer] = chat.messages;
    expect(chat.messages).toHaveLength(2);
    expect(answer!.id).toBe(run.id);
    expect(textOf(answer)).toBe(run.finalResponse);
    expect(answer!.parts.some((p) => p.type === "dynamic-tool" && p.state === "output-available")).toBe(true);
    expect(answer!.parts.some((p) => p.type === "reasoning")).toBe(true);

    const stored = await api("GET", `/v1/conversations/${conversationId}/messages`);
    expect(stored.json.messages.map((m: Json) => [m.role, m.content])).toEqual([
      ["user", "Который час? Europe/Moscow"],
      ["assistant", run.finalResponse],
    ]);
    expect(stored.json.messages[0].clientMessageId).toBe(user!.id);
    expect(stored.json.messages[1].id).toBe(run.id);

    // Nothing runs now: the resume route answers 204 and the chat stays as it is.
    await chat.resumeStream();
    expect(recorder.streams.at(-1)!.status).toBe(204);
    expect(chat.messages).toHaveLength(2);
  });

  it("resumes a cut stream and a reloaded page from the resume route: the answer once, nothing lost", async () => {
    const release = gate();
    const pieces = ["Один ", "два ", "три ", "четыре ", "пять"];
    const script: ScriptItem[] = textParts(pieces);
    script.splice(4, 0, release.promise); // after "Один ", "два "
    const { url, api, adminKey } = await startTestServer(engine, { convoOptions: mockRuns(scriptedModel(script)) });
    const { conversationId } = await userAndConversation(api);

    // The first tab: its connection drops after a few chunks, mid-run.
    const first = newChat(url, conversationId, adminKey);
    first.recorder.cutNextAfter(4);
    await within("the cut", first.chat.sendMessage({ text: "Считай до пяти" }));
    expect(first.chat.status).toBe("error");
    const partial = textOf(first.chat.messages[1]);
    expect(pieces.join("").startsWith(partial)).toBe(true);

    // A reloaded page: the stored user message only, then useChat({ resume: true }) on mount.
    const user = first.chat.messages[0]!;
    const reloaded = newChat(url, conversationId, adminKey, [user]);
    const resumed = reloaded.chat.resumeStream();
    await until("the replay to reach the held point", async () => textOf(reloaded.chat.messages[1]) === "Один два ");
    // The cut tab resumes too (while the run still runs: after its end the route answers 204,
    // and useChat keeps what it had — an app then reloads the conversation's messages).
    const again = first.chat.resumeStream();
    await until("the cut tab's replay", async () => (first.recorder.streams[1]?.chunks.length ?? 0) > 0);
    release.open();
    await within("both resumes", Promise.all([resumed, again]));

    const run = (await api("GET", `/v1/conversations/${conversationId}/runs`)).json.runs[0];
    expect(run.status).toBe("done");
    for (const chat of [reloaded.chat, first.chat]) {
      expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
      expect(chat.messages[1]!.id).toBe(run.id);
      expect(chat.messages[1]!.parts.filter((p) => p.type === "text")).toHaveLength(1);
      expect(textOf(chat.messages[1])).toBe("Один два три четыре пять");
    }
    // The replay is the run from its first event: the same chunks as the original, in full.
    const replay = reloaded.recorder.streams[0]!;
    expect(replay.chunks[0]).toEqual({ type: "start", messageId: run.id });
    expect(
      replay.chunks
        .filter((c) => c.type === "text-delta")
        .map((c) => (c as { delta: string }).delta)
        .join(""),
    ).toBe("Один два три четыре пять");
    expect(first.recorder.streams[0]!.chunks).toEqual(replay.chunks.slice(0, first.recorder.streams[0]!.chunks.length));

    const stored = await api("GET", `/v1/conversations/${conversationId}/messages`);
    expect(stored.json.messages.map((m: Json) => m.role)).toEqual(["user", "assistant"]);
  });

  it("regenerates: a new run answers the same user message; the previous answer stays stored", async () => {
    const model = scriptedModel(textParts(["Первый ответ"]), textParts(["Второй ответ"]));
    const { url, api, adminKey } = await startTestServer(engine, { convoOptions: mockRuns(model) });
    const { conversationId } = await userAndConversation(api);
    const { chat, errors } = newChat(url, conversationId, adminKey);
    await within("the answer", chat.sendMessage({ text: "Привет" }));
    const firstAnswer = chat.messages[1]!.id;

    await within("the regenerated answer", chat.regenerate());
    expect(errors).toEqual([]);
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(textOf(chat.messages[1])).toBe("Второй ответ");
    expect(chat.messages[1]!.id).not.toBe(firstAnswer);

    const runs = (await api("GET", `/v1/conversations/${conversationId}/runs`)).json.runs;
    expect(runs).toHaveLength(2);
    expect(runs[0].id).toBe(chat.messages[1]!.id);
    expect(runs[0].userMessageId).toBe(runs[1].userMessageId);
    // The model saw the conversation up to the user message, not the previous answer.
    const prompt = model.doStreamCalls[1]!.prompt.map((m) => m.role);
    expect(prompt.at(-1)).toBe("user");
    expect(prompt).not.toContain("assistant");

    const stored = await api("GET", `/v1/conversations/${conversationId}/messages`);
    expect(stored.json.messages.map((m: Json) => [m.role, m.content])).toEqual([
      ["user", "Привет"],
      ["assistant", "Первый ответ"],
      ["assistant", "Второй ответ"],
    ]);
  });

  it("stops: the stop route cancels the running run, the stream ends with abort, the deltas so far stay", async () => {
    const release = gate();
    const script: ScriptItem[] = textParts(["Начало ", "и конец"]);
    script.splice(3, 0, release.promise); // after "Начало "
    const { url, api, adminKey } = await startTestServer(engine, { convoOptions: mockRuns(scriptedModel(script)) });
    const { conversationId } = await userAndConversation(api);
    const { chat, recorder } = newChat(url, conversationId, adminKey);
    const sending = chat.sendMessage({ text: "Расскажи" });
    await until("the first words", async () => textOf(chat.messages[1]) === "Начало ");

    const stop = await api("POST", `/v1/chat/${conversationId}/stop`);
    expect(stop.status).toBe(200);
    expect(stop.json.runId).toBe(chat.messages[1]!.id);
    release.open();
    await within("the stream to end", sending);

    expect(recorder.streams[0]!.chunks.at(-1)).toEqual({ type: "abort", reason: "cancelled by request" });
    expect(chat.status).toBe("ready");
    expect(textOf(chat.messages[1])).toBe("Начало ");
    const run = (await api("GET", `/v1/runs/${stop.json.runId}`)).json;
    expect(run.status).toBe("cancelled");
    // Nothing runs: stop again and resume both answer "nothing".
    expect((await api("POST", `/v1/chat/${conversationId}/stop`)).json).toEqual({ runId: null, status: null });
    expect((await api("GET", `/v1/chat/${conversationId}/stream`)).status).toBe(204);
  });

  it("refuses bad chat requests with a clear 4xx and stores nothing", async () => {
    const held = gate();
    const script: ScriptItem[] = textParts(["…"]);
    script.splice(1, 0, held.promise);
    const { api, token, dump } = await startTestServer(engine, { convoOptions: mockRuns(scriptedModel(script)) });
    const { userId, conversationId } = await userAndConversation(api);
    const other = await userAndConversation(api);
    const text = (t: string) => ({ id: "m1", role: "user", parts: [{ type: "text", text: t }] });
    const before = await dump();

    const cases: [Json, number, string][] = [
      [{ id: "not-a-uuid", messages: [text("hi")] }, 400, "INVALID_REQUEST"],
      [{ id: conversationId }, 400, "INVALID_REQUEST"],
      [{ id: conversationId, messages: [{ ...text("hi"), role: "assistant" }] }, 400, "INVALID_REQUEST"],
      [{ id: conversationId, messages: [text("hi")], surprise: 1 }, 400, "INVALID_REQUEST"],
      [{ id: conversationId, message: text("") }, 422, "VALIDATION_FAILED"],
      [{ id: conversationId, message: text("a\u0000b") }, 422, "VALIDATION_FAILED"],
      [{ id: conversationId, trigger: "regenerate-message" }, 409, "NOTHING_TO_REGENERATE"],
      [{ id: other.conversationId, message: text("hi") }, 404, "NOT_FOUND"],
    ];
    const userToken = await token(userId);
    for (const [body, status, code] of cases) {
      const res = await api("POST", "/v1/chat", { body, token: userToken });
      expect([JSON.stringify(body), res.status, res.json?.error?.code]).toEqual([JSON.stringify(body), status, code]);
    }
    expect(await dump()).toEqual(before);

    // One run at a time: a second message while one runs is a 409 naming it.
    const running = api("POST", "/v1/chat", { body: { id: conversationId, message: text("раз") } });
    await until("the run to start", async () => (await api("GET", `/v1/conversations/${conversationId}/runs`)).json.runs[0]);
    const busy = await api("POST", "/v1/chat", { body: { id: conversationId, message: { ...text("два"), id: "m2" } } });
    expect(busy.status).toBe(409);
    expect(busy.json.error.code).toBe("RUN_IN_PROGRESS");
    held.open();
    expect((await running).status).toBe(200);
  });
});

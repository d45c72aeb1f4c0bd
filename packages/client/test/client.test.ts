/**
 * @convo/client against a real server on both engines: the SDK's calls and typed
 * errors, retries that store once, AbortSignal, and `runs.follow` across a server-side
 * cut, a blocked stream (long-poll fallback) and a node change (two servers on one
 * database), every event exactly once.
 */
import { type ConvoOptions, openConvo } from "@convo/core";
import { beforeAll, describe, expect, it, onTestFailed, onTestFinished } from "vitest";
import { engineOptions } from "../../core/test/support/engines.js";
import { gate, type ScriptItem, scriptedModel, textParts } from "../../core/test/support/runs.js";
import { startServer } from "../../server/src/server.js";
import { within } from "../../server/test/support/runs-http.js";
import { engines, startTestServer, type TestServer, warmUp } from "../../server/test/support/server.js";
import { ConvoApiError, createConvoClient, memoryPendingRuns, type RunEvent } from "../src/index.js";

beforeAll(warmUp);

const offline: Partial<ConvoOptions> = { runs: { models: { env: {}, offline: { chunkDelayMs: 0 } } } };
const quick = { retry: { minDelayMs: 5, maxDelayMs: 20 } };

/** A model that says `pieces` and waits at `holdAfter` until the gate opens. */
function heldScript(pieces: string[], holdAfter: number) {
  const release = gate();
  const script: ScriptItem[] = textParts(pieces);
  script.splice(2 + holdAfter, 0, release.promise); // after stream-start, text-start and `holdAfter` deltas
  return { release, model: scriptedModel(script) };
}

const mock = (model: ReturnType<typeof scriptedModel>): Partial<ConvoOptions> => ({
  runs: { maxRetries: 0, flushIntervalMs: 0, models: { env: {}, models: { mock: model }, defaultModel: "mock" } },
});

async function collect(events: AsyncIterable<RunEvent>, onEach?: (event: RunEvent) => void | Promise<void>) {
  const out: RunEvent[] = [];
  for await (const event of events) {
    out.push(event);
    await onEach?.(event);
  }
  return out;
}

/**
 * Fetch that forwards to whichever server `target()` names, and can cut stream bodies
 * (the next one after some bytes, or the open ones now) or refuse streaming altogether.
 */
function routedFetch(from: string, target: () => string) {
  const open = new Set<() => void>();
  const state = {
    cutAfterBytes: undefined as number | undefined,
    blockStreams: false,
    attempts: [] as string[],
    /** Drops every open stream, as a restarting proxy does. */
    cutNow: () => {
      for (const cut of open) cut();
    },
  };
  const impl = async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input).replace(from, target());
    state.attempts.push(`${init?.method ?? "GET"} ${url.replace(target(), "")}`);
    if (state.blockStreams && url.includes("/stream")) {
      // A proxy that buffers or rewrites event streams: answers something else.
      return new Response("<html>blocked</html>", { status: 200, headers: { "content-type": "text/html" } });
    }
    const response = await fetch(url, init);
    if (!response.body || !url.includes("/stream")) return response;
    const limit = state.cutAfterBytes;
    state.cutAfterBytes = undefined;
    let seen = 0;
    const reader = response.body.getReader();
    let cut: () => void = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        cut = () => {
          open.delete(cut);
          reader.cancel().catch(() => {});
          controller.error(new TypeError("network connection lost"));
        };
        open.add(cut);
      },
      async pull(controller) {
        const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (next.done) {
          open.delete(cut);
          return controller.close();
        }
        seen += next.value.byteLength;
        controller.enqueue(next.value);
        if (limit !== undefined && seen >= limit) cut();
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetch: impl as typeof fetch, state };
}

/** A second node: its own Convo and HTTP server on the schema of `server`. */
async function secondNode(engine: (typeof engines)[number], server: TestServer, options: Partial<ConvoOptions>) {
  const convo = await openConvo({ ...(await engineOptions(engine, server.convo.store.engine.schema)), ...options });
  const running = await startServer(
    {
      dataDir: "unused",
      port: 0,
      host: "127.0.0.1",
      bodyLimit: 1024 * 1024,
      rateLimitUser: 600,
      rateLimitAdmin: 120_000,
      corsOrigins: [],
      sweepIntervalMs: 0,
      logLevel: "silent",
      jwtSecret: server.jwtSecret,
    },
    { convo },
  );
  onTestFinished(async () => {
    await running.close();
    await convo.close();
  });
  return running;
}

describe.each(engines)("@convo/client on %s", (engine) => {
  it("calls every kind of route and answers the API's errors as ConvoApiError with its code", async () => {
    const server = await startTestServer(engine, { convoOptions: offline });
    const convo = createConvoClient({ baseUrl: server.url, token: server.adminKey, pendingRuns: memoryPendingRuns(), ...quick });

    const user = await convo.users.create({ externalId: "tg:1", displayName: "Аня" });
    expect(await convo.users.create({ externalId: "tg:1" })).toMatchObject({ id: user.id });
    expect(await convo.users.update(user.id, { displayName: "Anna" })).toMatchObject({ displayName: "Anna" });
    const conversation = await convo.conversations.create(user.id);
    const appended = await convo.messages.append(conversation.id, { role: "user", content: "Привет" });
    expect(appended.clientMessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      await convo.messages.append(conversation.id, {
        role: "user",
        content: "Привет",
        clientMessageId: appended.clientMessageId!,
      }),
    ).toMatchObject({ id: appended.id });
    const current = await convo.messages.appendToCurrent(user.id, { role: "assistant", content: "Здравствуй" });
    expect(current.conversation.id).toBe(conversation.id);
    expect((await convo.messages.list(conversation.id)).messages.map((m) => m.seq)).toEqual([1, 2]);
    expect((await convo.conversations.list(user.id)).sessions).toHaveLength(1);
    expect((await convo.conversations.update(conversation.id, { title: "Кот" })).title).toBe("Кот");

    const state = await convo.state.get(conversation.id);
    const written = await convo.state.patch(conversation.id, { attempt: 1 }, state.version);
    expect(written.state).toEqual({ attempt: 1 });
    const stale = await convo.state.replace(conversation.id, {}, state.version).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConvoApiError);
    expect(stale).toMatchObject({ status: 409 });
    expect((await convo.context.load(user.id)).conversationHistory).toHaveLength(2);

    const started = await convo.runs.start(conversation.id, { content: "Который час?" });
    expect(convo.runs.pending()).toEqual([{ runId: started.runId, conversationId: conversation.id, after: 0 }]);
    const events = await collect(convo.runs.follow(started.runId));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.type).toBe("done");
    expect(convo.runs.pending()).toEqual([]);
    expect((await convo.runs.get(started.runId)).status).toBe("done");
    expect((await convo.runs.list(conversation.id)).runs).toHaveLength(1);
    expect((await convo.runs.events(started.runId, { after: 1 })).events[0]!.seq).toBe(2);
    expect((await convo.runs.cancel(started.runId)).status).toBe("done");
    expect(await convo.chat.stop(conversation.id)).toEqual({ runId: null, status: null });
    expect(
      (await convo.streamTokens.url({ runId: started.runId })).startsWith(
        `${server.url}/v1/runs/${started.runId}/stream?access_token=cst_`,
      ),
    ).toBe(true);

    const dialog = await convo.dialogs.create(user.id);
    expect((await convo.dialogs.active(user.id)).id).toBe(dialog.id);
    expect((await convo.dialogs.update(dialog.id, { goal: "кот", currentStep: 1 })).goal).toBe("кот");
    expect((await convo.dialogs.recordError(dialog.id)).fellBack).toBe(false);
    expect((await convo.dialogs.close(dialog.id, { status: "completed" })).status).toBe("completed");
    expect(await convo.analytics.report("statuses")).toHaveProperty("statuses");
    expect((await convo.ops.health()).status).toBe("ok");

    // Errors: the API's code, status, details and request id.
    const missing = await convo.conversations.get("00000000-0000-4000-8000-000000000000").catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: "ConvoApiError", code: "NOT_FOUND", status: 404 });
    expect((missing as ConvoApiError).requestId).toBeTruthy();
    const bad = await convo.conversations.update(conversation.id, { title: "x".repeat(31) }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "VALIDATION_FAILED", status: 422 });
    const anonymous = createConvoClient({ baseUrl: server.url, retry: { retries: 0 } });
    await expect(anonymous.users.get(user.id)).rejects.toMatchObject({ code: "UNAUTHORIZED", status: 401 });
    await convo.conversations.delete(conversation.id);
    await expect(convo.conversations.get(conversation.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const nowhere = createConvoClient({ baseUrl: "http://127.0.0.1:1", retry: { retries: 1, minDelayMs: 1 } });
    await expect(nowhere.ops.health()).rejects.toMatchObject({ code: "NETWORK_ERROR", status: 0 });
  });

  it("retries appends and run starts after a lost answer: one message, one run; a 409 names the running run", async () => {
    const { release, model } = heldScript(["раз ", "два"], 1);
    const server = await startTestServer(engine, { convoOptions: mock(model) });
    let dropNext = 0;
    const flaky = (async (input: string | URL | Request, init?: RequestInit) => {
      const response = await fetch(input, init);
      // The request reached the server and was stored; the answer is lost on the way back.
      if (init?.method === "POST" && dropNext > 0) {
        dropNext -= 1;
        await response.body?.cancel();
        throw new TypeError("fetch failed");
      }
      return response;
    }) as typeof fetch;
    const convo = createConvoClient({
      baseUrl: server.url,
      token: server.adminKey,
      fetch: flaky,
      pendingRuns: memoryPendingRuns(),
      ...quick,
    });
    const user = await convo.users.create();
    const conversation = await convo.conversations.create(user.id);

    dropNext = 1;
    await convo.messages.append(conversation.id, { role: "user", content: "Привет" });
    dropNext = 1;
    const started = await convo.runs.start(conversation.id, { content: "Считай" });
    const runs = await convo.runs.list(conversation.id);
    expect(runs.runs.map((r) => r.id)).toEqual([started.runId]);
    expect((await convo.messages.list(conversation.id)).messages.map((m) => m.content)).toEqual(["Привет", "Считай"]);

    const busy = await convo.runs.start(conversation.id, { content: "Ещё" }).catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: "RUN_IN_PROGRESS", status: 409, details: { runId: started.runId } });

    // AbortSignal: a long-poll given up on ends at once with the abort.
    const controller = new AbortController();
    const waiting = convo.runs.events(started.runId, { after: 99, wait: 60 }, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    // …and a follow given up on just ends.
    const stop = new AbortController();
    const seen = await collect(convo.runs.follow(started.runId, { signal: stop.signal }), () => stop.abort());
    expect(seen).toHaveLength(1);
    release.open();
    expect((await collect(convo.runs.follow(started.runId))).at(-1)!.type).toBe("done");
  });

  it("follows a run across a server-side cut and a blocked stream: every event once, in order", async () => {
    const pieces = Array.from({ length: 12 }, (_, i) => `слово${i} `);
    const { release, model } = heldScript(pieces, 6);
    const server = await startTestServer(engine, { convoOptions: mock(model) });
    const routed = routedFetch(server.url, () => server.url);
    const convo = createConvoClient({
      baseUrl: server.url,
      token: server.adminKey,
      fetch: routed.fetch,
      pendingRuns: memoryPendingRuns(),
      ...quick,
    });
    const user = await convo.users.create();
    const conversation = await convo.conversations.create(user.id);
    const { runId } = await convo.runs.start(conversation.id, { content: "Говори" });

    routed.state.cutAfterBytes = 200; // the first stream drops mid-run
    onTestFailed(() => console.error(routed.state.attempts));
    const events = await within(
      "the run to end",
      collect(convo.runs.follow(runId, { retry: quick.retry }), (event) => {
        if (event.type === "delta" && !routed.state.blockStreams) {
          // Then the stream drops again and streaming is blocked from now on: long-polling takes over.
          routed.state.blockStreams = true;
          routed.state.cutNow();
          release.open();
        }
      }),
    );
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.type).toBe("done");
    const text = events
      .filter((e) => e.type === "delta")
      .map((e) => e.content)
      .join("");
    expect(text).toBe(pieces.join(""));
    expect(routed.state.attempts.filter((a) => a.includes("/stream")).length).toBeGreaterThanOrEqual(2);
    expect(routed.state.attempts.some((a) => a.includes("/events?after="))).toBe(true);
  });

  it("follows a run across a node change (two servers on one database), resuming by Last-Event-ID", async () => {
    const pieces = ["один ", "два ", "три ", "четыре"];
    const { release, model } = heldScript(pieces, 2);
    const a = await startTestServer(engine, { convoOptions: mock(model) });
    const b = await secondNode(engine, a, { runs: { nodeId: "node-b", models: { env: {} } } });
    let target = a.url;
    const routed = routedFetch(a.url, () => target);
    const convo = createConvoClient({
      baseUrl: a.url,
      token: a.adminKey,
      fetch: routed.fetch,
      pendingRuns: memoryPendingRuns(),
      ...quick,
    });
    const user = await convo.users.create();
    const conversation = await convo.conversations.create(user.id);
    const { runId } = await convo.runs.start(conversation.id, { content: "Считай" });

    const events = await within(
      "the run to end",
      collect(convo.runs.follow(runId, { transport: "sse" }), async (event) => {
        if (event.type === "delta" && target === a.url) {
          // Node A's HTTP front stops (its run goes on); the balancer sends the client to node B.
          target = b.url;
          await a.server.app.close();
          release.open();
        }
      }),
    );
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.type).toBe("done");
    expect(
      events
        .filter((e) => e.type === "delta")
        .map((e) => e.content)
        .join(""),
    ).toBe(pieces.join(""));
    expect(routed.state.attempts.filter((x) => x.includes("/stream")).length).toBeGreaterThanOrEqual(2);
  });

  it("follows a conversation: messages and run events live, each once", async () => {
    const server = await startTestServer(engine, { convoOptions: offline });
    const convo = createConvoClient({ baseUrl: server.url, token: server.adminKey, pendingRuns: memoryPendingRuns(), ...quick });
    const user = await convo.users.create();
    const conversation = await convo.conversations.create(user.id);
    await convo.messages.append(conversation.id, { role: "user", content: "до" });
    const stop = new AbortController();
    const items: string[] = [];
    const following = (async () => {
      for await (const item of convo.conversations.follow(conversation.id, { afterSeq: 0, signal: stop.signal })) {
        items.push(item.type === "message" ? `m${item.message.seq}` : `e${item.event.seq}:${item.event.type}`);
        // The answer (message 3) and the run's end may come in either order.
        if (items.includes("m3") && items.some((i) => i.endsWith(":done"))) stop.abort();
      }
    })();
    const { runId } = await convo.runs.start(conversation.id, { content: "Привет" });
    await within("the conversation to show the run's end", following);
    expect(items[0]).toBe("m1");
    expect(items).toContain("m2");
    expect(items).toContain("m3");
    expect(new Set(items).size).toBe(items.length);
    const runEvents = items.filter((i) => i.startsWith("e"));
    expect(runEvents.at(-1)).toMatch(/:done$/);
    expect((await convo.runs.get(runId)).status).toBe("done");
  });
});

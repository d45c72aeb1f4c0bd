import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import { engines, rawQuery, startTestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

describe.each(engines)("long-term memory over HTTP on %s", (engine) => {
  it("searches, loads a budgeted context, exports as streamed NDJSON and erases, each only for its own user", async () => {
    const t = await startTestServer(engine);
    const a = await t.createUser({ displayName: "A", profile: { pet: "кот" } });
    const b = await t.createUser({ displayName: "B" });
    const tokenA = await t.token(a.id);
    const tokenB = await t.token(b.id);
    for (const [user, content] of [
      [a, "Нарисуй котом 🐱 <script>"],
      [a, "Running late"],
      [b, "Мой кот спит"],
    ] as const) {
      expect((await t.api("POST", `/v1/users/${user.id}/messages`, { body: { role: "user", content } })).status).toBe(201);
    }

    const search = await t.api("GET", `/v1/users/${a.id}/search?q=${encodeURIComponent("кот")}&limit=1`, { token: tokenA });
    expect(search.status).toBe(200);
    expect(search.json.results).toHaveLength(1);
    const next = await t.api("GET", `/v1/users/${a.id}/search?q=${encodeURIComponent("кот")}&cursor=${search.json.nextCursor}`);
    expect(next.json).toMatchObject({ hasMore: false, nextCursor: null });
    // The message, and its conversation (titled from the message).
    const hits = [...search.json.results, ...next.json.results];
    expect(hits.map((h) => h.kind).sort()).toEqual(["conversation", "message"]);
    const message = hits.find((h) => h.kind === "message");
    expect(message.snippet).toBe("Нарисуй <mark>котом</mark> 🐱 &lt;script&gt;");
    expect((await t.api("GET", `/v1/users/${a.id}/search?q=run`)).json.results[0].snippet).toBe("<mark>Running</mark> late");
    expect((await t.api("GET", `/v1/users/${a.id}/search?q=${encodeURIComponent("🐱")}`)).json.results).toHaveLength(2);
    expect((await t.api("GET", `/v1/users/${a.id}/search?q=кот`, { token: tokenB })).status).toBe(404);
    expect((await t.api("GET", `/v1/users/${a.id}/search?q=`)).status).toBe(422);
    expect((await t.api("GET", `/v1/users/${a.id}/search?q=a%00b`)).status).toBe(422);
    expect((await t.api("GET", `/v1/users/${a.id}/search?q=кот&cursor=nonsense`)).status).toBe(400);
    expect((await t.api("GET", `/v1/users/${b.id}/search?q=кот&cursor=${search.json.nextCursor}`)).status).toBe(400);

    // Closed, then indexed by the server's sweep: the same message hit, now from the search
    // index, once; the sweep's counts reach the metrics.
    expect((await t.api("POST", `/v1/conversations/${message.conversationId}/close`, { token: tokenA })).status).toBe(200);
    // The close writes its summary in the background; the indexer skips a row held meanwhile.
    for (let i = 0; i < 500; i++) {
      const [row] = await rawQuery<{ pending: boolean }>(
        t.convo,
        `SELECT summary_pending_at IS NOT NULL AS pending FROM conversations WHERE id = '${message.conversationId}'`,
      );
      if (!row?.pending) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await t.server.scheduler.runOnce()).toMatchObject({ searchIndexedMessages: 2, searchIndexedConversations: 1 });
    const indexed = await t.api("GET", `/v1/users/${a.id}/search?q=${encodeURIComponent("кот")}&limit=50`, { token: tokenA });
    expect(indexed.json.results.filter((h: { kind: string }) => h.kind === "message")).toEqual([message]);
    expect((await t.api("GET", `/v1/users/${a.id}/search?q=${encodeURIComponent("🐱")}`)).json.results).toHaveLength(2);
    const metrics = await t.api("GET", "/metrics", { token: null });
    expect(metrics.text).toMatch(/convo_sweep_rows_total\{sweep="searchIndexedMessages"\} 2$/m);

    const context = await t.api("POST", `/v1/users/${a.id}/context`, {
      body: { tokenBudget: 30, model: "openai:gpt-4o-mini" },
      token: tokenA,
    });
    expect(context.status).toBe(200);
    expect(context.json.budget.tokenizer).toEqual({ encoding: "o200k_base", exact: true, model: "openai:gpt-4o-mini" });
    expect(context.json.budget.used).toBeLessThanOrEqual(30);
    expect((await t.api("POST", `/v1/users/${a.id}/context`, { body: { tokenBudget: 0 } })).status).toBe(422);

    // 10,000 more messages for A, then the export, read as a stream.
    const [conversation] = await rawQuery<{ id: string }>(t.convo, `SELECT id FROM conversations WHERE user_id = '${a.id}'`);
    await rawQuery(
      t.convo,
      `INSERT INTO messages (user_id, conversation_id, seq, role, content)
       SELECT '${a.id}', '${conversation?.id}', 100 + g, 'assistant', 'ответ ' || g FROM generate_series(1, 10000) g`,
    );
    const response = await fetch(`${t.url}/v1/users/${a.id}/export`, { headers: { authorization: `Bearer ${tokenA}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    expect(response.headers.get("content-length")).toBeNull(); // streamed (chunked), not buffered
    let text = "";
    let chunks = 0;
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks++;
      text += decoder.decode(chunk, { stream: true });
    }
    expect(chunks).toBeGreaterThan(1);
    const records = text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(records.filter((r) => r.type === "message")).toHaveLength(10_002);
    expect(text).not.toContain(b.id);
    expect((await t.api("GET", `/v1/users/${a.id}/export`, { token: tokenB })).status).toBe(404);
    expect((await t.api("GET", "/v1/users/00000000-0000-4000-8000-000000000000/export")).status).toBe(404);

    // Erasure: another user's token cannot; the user's own token can; B is untouched.
    expect((await t.api("DELETE", `/v1/users/${a.id}`, { token: tokenB })).status).toBe(404);
    const erased = await t.api("DELETE", `/v1/users/${a.id}`, { token: tokenA });
    expect(erased.status).toBe(200);
    expect(erased.json.tables).toMatchObject({
      users: 1,
      conversations: 1,
      messages: 10_002,
      message_search: 2,
      conversation_totals: 1,
    });
    expect(erased.json.total).toBe(Object.values(erased.json.tables as Record<string, number>).reduce((x, y) => x + y, 0));
    expect((await t.api("GET", `/v1/users/${a.id}`)).status).toBe(404);
    expect((await t.api("DELETE", `/v1/users/${a.id}`)).status).toBe(404);
    expect((await t.api("GET", `/v1/users/${b.id}/search?q=кот`)).json.results.length).toBeGreaterThan(0);
  });

  it("manages webhook subscriptions with an admin key and shows the delivery log", async () => {
    const received: { headers: Record<string, string>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        received.push({ headers: req.headers as Record<string, string>, body });
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const t = await startTestServer(engine);
      const user = await t.createUser({});
      const token = await t.token(user.id);
      expect((await t.api("POST", "/v1/webhooks", { body: { url, events: ["conversation.closed"] }, token })).status).toBe(404);
      expect((await t.api("GET", "/v1/webhooks", { token })).status).toBe(404);
      expect((await t.api("POST", "/v1/webhooks", { body: { url: "ftp://x", events: ["conversation.closed"] } })).status).toBe(
        400,
      );
      expect((await t.api("POST", "/v1/webhooks", { body: { url, events: ["nope"] } })).status).toBe(400);
      const created = await t.api("POST", "/v1/webhooks", { body: { url, events: ["conversation.closed"], description: "crm" } });
      expect(created.status).toBe(201);
      expect(created.json.secret).toMatch(/^whsec_/);
      const id = created.json.id as string;
      expect((await t.api("GET", "/v1/webhooks")).json.webhooks).toEqual([
        expect.objectContaining({ id, url, events: ["conversation.closed"], active: true }),
      ]);
      expect((await t.api("GET", `/v1/webhooks/${id}`)).json.secret).toBeUndefined();

      const conv = await t.api("POST", `/v1/users/${user.id}/conversations`, { body: {} });
      expect((await t.api("POST", `/v1/conversations/${conv.json.id}/close`, { token })).status).toBe(200);
      expect(await t.server.webhooksScheduler.runOnce()).toMatchObject({ dispatched: 1, delivered: 1 });
      expect(received).toHaveLength(1);
      const payload = new Webhook(created.json.secret).verify(
        received[0]?.body as string,
        received[0]?.headers as Record<string, string>,
      );
      expect(payload).toMatchObject({ type: "conversation.closed", data: { conversationId: conv.json.id, userId: user.id } });

      const log = await t.api("GET", `/v1/webhooks/deliveries?subscriptionId=${id}`);
      expect(log.status).toBe(200);
      expect(log.json.deliveries).toEqual([expect.objectContaining({ status: "delivered", attempts: 1, lastStatusCode: 200 })]);
      const detail = await t.api("GET", `/v1/webhooks/deliveries/${log.json.deliveries[0].id}`);
      expect(detail.json.log).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, error: null })]);
      expect(detail.json.payload.type).toBe("conversation.closed");
      expect((await t.api("GET", "/v1/webhooks/deliveries?status=weird")).status).toBe(400);

      const patched = await t.api("PATCH", `/v1/webhooks/${id}`, { body: { active: false } });
      expect(patched.json.active).toBe(false);
      expect((await t.api("DELETE", `/v1/webhooks/${id}`)).status).toBe(204);
      expect((await t.api("GET", `/v1/webhooks/${id}`)).status).toBe(404);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});

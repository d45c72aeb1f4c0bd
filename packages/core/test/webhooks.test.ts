import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MockLanguageModelV3 } from "ai/test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { type Convo, openConvo } from "../src/index.js";
import {
  dropSchema,
  type EngineName,
  engineOptions,
  engines,
  openTestConvo,
  rawQuery,
  testClock,
  testSchemaName,
} from "./support/engines.js";
import { gate, scriptedModel, textParts, untilEnd } from "./support/runs.js";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A real HTTP receiver on an ephemeral port that fails its first `failures` requests. */
async function receiver(failures: number, hold?: Promise<void>) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      await hold;
      const answered = received.length < failures ? 500 : 204;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const servers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of servers.splice(0)) await close();
});

/** Opens Convo on a given schema; a second call with the same schema is "the node restarted". */
async function node(engine: EngineName, schema: string, clock: () => Date): Promise<Convo> {
  return openConvo({
    ...(await engineOptions(engine, schema)),
    clock,
    runs: { models: { env: {}, offline: { chunkDelayMs: 0 } } },
  });
}

describe.each(engines)("webhooks on %s", (engine) => {
  it("delivers each event once after a receiver failed three times, signed, across a node restart", async () => {
    const schema = testSchemaName();
    const clock = testClock();
    const hook = await receiver(3);
    servers.push(hook.close);
    let first: Convo | undefined = await node(engine, schema, clock.now);
    let second: Convo | undefined;
    onTestFinished(async () => {
      await first?.close();
      await second?.close();
      await dropSchema(engine, schema);
    });

    const { user } = await first.users.create({});
    // Before any subscription, nothing is written to the outbox.
    const early = await first.conversations.create(user.id);
    await first.conversations.close(user.id, early.id);
    expect(await rawQuery(first, "SELECT * FROM webhook_events")).toEqual([]);

    const { secret, id: subscriptionId } = await first.webhooks.subscribe({
      url: hook.url,
      events: ["run.completed", "conversation.closed", "dialog.closed"],
    });
    expect(secret).toMatch(/^whsec_/);

    const c = await first.conversations.create(user.id);
    const { run } = await first.runs.start(user.id, c.id, { content: "Привет" });
    await untilEnd(first, user.id, run.id);
    const dialog = await first.dialogs.create(user.id, { sessionId: c.id });
    await first.dialogs.close(user.id, dialog.id, "completed");
    // A change that rolls back leaves no event.
    const other = await first.conversations.create(user.id);
    await expect(
      first.transaction(async () => {
        await first?.conversations.close(user.id, other.id);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    await first.conversations.close(user.id, c.id);
    const events = await rawQuery<{ id: string; type: string }>(first, "SELECT id, type FROM webhook_events ORDER BY created_at");
    expect(events.map((e) => e.type).sort()).toEqual(["conversation.closed", "dialog.closed", "run.completed"]);

    const pass1 = await first.webhooks.runExclusive(clock.now());
    expect(pass1).toEqual({ dispatched: 3, delivered: 0, retrying: 3, failed: 0, purged: 0 });
    expect(await first.webhooks.runExclusive(clock.now())).toEqual({
      dispatched: 0,
      delivered: 0,
      retrying: 0,
      failed: 0,
      purged: 0,
    });

    // The node restarts; the receiver comes back; the backoff has passed.
    await first.close();
    first = undefined;
    second = await node(engine, schema, clock.now);
    clock.advance(5_000);
    expect(await second.webhooks.runExclusive(clock.now())).toEqual({
      dispatched: 0,
      delivered: 3,
      retrying: 0,
      failed: 0,
      purged: 0,
    });
    clock.advance(60 * 60_000);
    expect(await second.webhooks.runExclusive(clock.now())).toEqual({
      dispatched: 0,
      delivered: 0,
      retrying: 0,
      failed: 0,
      purged: 0,
    });

    // Each event reached the receiver successfully exactly once, by id; every request is validly signed.
    const ok = hook.received.filter((r) => r.answered === 204).map((r) => r.headers["webhook-id"]);
    expect(ok.sort()).toEqual(events.map((e) => e.id).sort());
    expect(hook.received).toHaveLength(6);
    const verifier = new Webhook(secret);
    for (const r of hook.received) {
      const payload = verifier.verify(r.body, r.headers as Record<string, string>) as {
        type: string;
        data: Record<string, unknown>;
      };
      expect(payload.data.userId).toBe(user.id);
    }
    const runEvent = hook.received.find((r) => JSON.parse(r.body).type === "run.completed");
    expect(JSON.parse(runEvent?.body ?? "{}").data).toMatchObject({ runId: run.id, conversationId: c.id, status: "done" });

    // The delivery log.
    const log = await second.webhooks.deliveries({ subscriptionId });
    expect(log.items.map((d) => [d.status, d.attempts])).toEqual([
      ["delivered", 2],
      ["delivered", 2],
      ["delivered", 2],
    ]);
    const detail = await second.webhooks.delivery(log.items[0]?.id as string);
    expect(detail.log.map((a) => a.statusCode)).toEqual([500, 204]);
    expect(detail.payload.type).toBe(detail.eventType);

    // After the retention (30 days) the events go, with their deliveries and log.
    clock.advance(31 * 24 * 60 * 60_000);
    expect(await second.webhooks.runExclusive(clock.now())).toMatchObject({ purged: 3 });
    expect(await rawQuery(second, "SELECT 1 FROM webhook_attempts")).toEqual([]);
  });

  it("gives up after the retry schedule, and lets one delivering pass run at a time", async () => {
    const hook = await receiver(1000);
    servers.push(hook.close);
    const schema = testSchemaName();
    const clock = testClock();
    const convo = await openConvo({
      ...(await engineOptions(engine, schema)),
      clock: clock.now,
      webhooks: { retryScheduleMs: [1_000, 2_000] },
    });
    onTestFinished(async () => {
      await convo.close();
      await dropSchema(engine, schema);
    });
    await convo.webhooks.subscribe({ url: hook.url, events: ["conversation.closed"] });
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id);
    await convo.conversations.close(user.id, c.id);
    const [a, b] = await Promise.all([convo.webhooks.runExclusive(clock.now()), convo.webhooks.runExclusive(clock.now())]);
    expect([a, b].filter((r) => r === undefined)).toHaveLength(1);
    clock.advance(1_000);
    await convo.webhooks.runExclusive(clock.now());
    clock.advance(2_000);
    expect(await convo.webhooks.runExclusive(clock.now())).toMatchObject({ failed: 1 });
    const [delivery] = (await convo.webhooks.deliveries({ status: "failed" })).items;
    expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 500, nextAttemptAt: null });
    await expect(convo.webhooks.subscribe({ url: "ftp://x", events: ["run.completed"] })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    await expect(convo.webhooks.subscribe({ url: hook.url, events: ["run.exploded" as never] })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });

  it("writes run.failed, run.cancelled and dialog.closed from every path that makes them (cancel, provider error, sweep)", async () => {
    const held = gate();
    const slow = scriptedModel([held.promise, ...textParts(["поздно"])]);
    const failing = new MockLanguageModelV3({
      doStream: async () => {
        throw new Error("provider down");
      },
    });
    const clock = testClock();
    const convo = await openTestConvo(engine, {
      clock: clock.now,
      runs: { maxRetries: 0, models: { models: { slow, failing }, defaultModel: "slow" } },
    });
    await convo.webhooks.subscribe({ url: "http://127.0.0.1:9/hooks", events: ["run.failed", "run.cancelled", "dialog.closed"] });
    const { user } = await convo.users.create({});
    const a = await convo.conversations.create(user.id);
    const cancelled = (await convo.runs.start(user.id, a.id, { content: "Подожди" })).run;
    await convo.runs.cancel(user.id, cancelled.id);
    held.open();
    await untilEnd(convo, user.id, cancelled.id);
    const b = await convo.conversations.create(user.id);
    const failed = (await convo.runs.start(user.id, b.id, { content: "Ошибка", model: "failing" })).run;
    await untilEnd(convo, user.id, failed.id);
    await convo.dialogs.create(user.id);
    clock.advance(31 * 60_000);
    expect((await convo.sweeps.runAll()).abandonedDialogs).toBe(1);
    const events = await rawQuery<{ type: string; data: { runId?: string; status: string } }>(
      convo,
      "SELECT type, data FROM webhook_events ORDER BY created_at",
    );
    expect(events.map((e) => [e.type, e.data.runId ?? null, e.data.status])).toEqual([
      ["run.cancelled", cancelled.id, "cancelled"],
      ["run.failed", failed.id, "error"],
      ["dialog.closed", null, "abandoned"],
    ]);
  });
});

import { describe, expect, it } from "vitest";
import type { RunEvent } from "../src/index.js";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";
import {
  gate,
  pause,
  type ScriptItem,
  scriptedModel,
  textParts,
  untilEnd,
  userWithConversation,
  waitForEventType,
} from "./support/runs.js";

describe.each(engines)("following runs on %s", (engine) => {
  it("wakes a long-poll on the next stored event, and times out when nothing comes", async () => {
    const go = gate();
    const convo = await openTestConvo(engine, {
      runs: { models: { models: { model: scriptedModel([go.promise, ...textParts(["Ответ"])]) }, defaultModel: "model" } },
    });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "hi" });

    const quiet = Date.now();
    const empty = await convo.runs.waitForEvents(userId, run.id, { after: 1, waitMs: 300 });
    expect(Date.now() - quiet).toBeGreaterThanOrEqual(250);
    expect(empty).toMatchObject({ events: [], nextAfter: 1, status: "running", finished: false });

    const aborted = new AbortController();
    const abortedWait = convo.runs.waitForEvents(userId, run.id, { after: 1, waitMs: 60_000, signal: aborted.signal });
    aborted.abort();
    expect((await abortedWait).events).toEqual([]);

    const started = Date.now();
    const waiting = convo.runs.waitForEvents(userId, run.id, { after: 1, waitMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    go.open();
    const page = await waiting;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events[0]?.seq).toBe(2);

    const all = await untilEnd(convo, userId, run.id);
    const end = await convo.runs.waitForEvents(userId, run.id, { after: all.at(-1)!.seq, waitMs: 30_000 });
    expect(end).toMatchObject({ events: [], finished: true, status: "done" });
  });

  it("gives every follower every event exactly once across the read/subscribe race", async () => {
    // 60 pieces with pauses, flushed every millisecond: many small batches while
    // followers join at different moments and from different seqs.
    const script: ScriptItem[] = [];
    const pieces = Array.from({ length: 60 }, (_, i) => `кусок-${i} 🧩 `);
    for (const part of textParts(pieces)) {
      script.push(part);
      if (part.type === "text-delta") script.push(pause(3));
    }
    const convo = await openTestConvo(engine, {
      runs: {
        flushIntervalMs: 1,
        flushChars: 10,
        models: { models: { model: scriptedModel(script) }, defaultModel: "model" },
      },
    });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "go" });

    const collect = async (after: number) => {
      const seen: RunEvent[] = [];
      for await (const event of await convo.runs.follow(userId, run.id, { after })) seen.push(event);
      return { after, seen };
    };
    const followers: Promise<{ after: number; seen: RunEvent[] }>[] = [collect(0)];
    for (let i = 0; i < 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 7 * (i % 4) + 2));
      const latest = (await convo.runs.get(userId, run.id)).lastEventSeq;
      followers.push(collect(i % 2 === 0 ? 0 : Math.max(0, latest - (i % 5))));
    }
    const results = await Promise.all(followers);
    const stored = await rawQuery<{ seq: number; type: string; content: string | null }>(
      convo,
      `SELECT seq, type, content FROM run_events WHERE run_id = '${run.id}' ORDER BY seq`,
    );
    expect(stored.length).toBeGreaterThan(10);
    expect(stored.at(-1)?.type).toBe("done");
    for (const { after, seen } of results) {
      expect(seen.map((e) => e.seq)).toEqual(stored.filter((r) => r.seq > after).map((r) => r.seq));
      expect(seen.map((e) => e.content)).toEqual(stored.filter((r) => r.seq > after).map((r) => r.content));
    }
    // A follower starting after the end ends at once.
    const late = await collect(stored.at(-1)!.seq);
    expect(late.seen).toEqual([]);
  });

  it("ends a run whose node stopped heartbeating as error 'interrupted' via the sweep", async () => {
    const clock = testClock(new Date("2026-05-01T12:00:00Z"));
    const hold = gate();
    const convo = await openTestConvo(engine, {
      clock: clock.now,
      runs: {
        heartbeatMs: 3_600_000, // this "node" never heartbeats: as if it had died
        leaseMs: 30_000,
        models: {
          models: { model: scriptedModel([...textParts(["Нача"], { finish: false }), hold.promise, ...textParts(["ло"])]) },
          defaultModel: "model",
        },
      },
    });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "go" });
    expect(run.leaseExpiresAt?.toISOString()).toBe("2026-05-01T12:00:30.000Z");
    // The sweep skips a run whose row its node is writing right now (SKIP LOCKED): let the
    // node store its first delta and park at the hold, as a dead node would sit still.
    await waitForEventType(convo, userId, run.id, ["delta"]);
    clock.advance(29_000);
    expect((await convo.sweeps.runAll()).interruptedRuns).toBe(0);
    clock.advance(2_000);
    expect((await convo.sweeps.runAll()).interruptedRuns).toBe(1);
    expect(await convo.runs.expireLeases()).toBe(0);

    const events = await untilEnd(convo, userId, run.id);
    const last = events.at(-1);
    expect(last).toMatchObject({ type: "error", code: "INTERRUPTED" });
    expect(last?.content).toMatch(/^interrupted/);
    const stored = await convo.runs.get(userId, run.id);
    expect(stored.status).toBe("error");
    expect(stored.error).toMatch(/^interrupted/);

    // The stuck executor learns its run was ended and adds nothing, even when its model goes on.
    hold.open();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await rawQuery<{ type: string }>(convo, `SELECT type FROM run_events WHERE run_id = '${run.id}' ORDER BY seq`);
    expect(after.at(-1)?.type).toBe("error");
    expect(after.filter((e) => e.type === "error")).toHaveLength(1);
    expect(await rawQuery(convo, "SELECT role FROM messages")).toEqual([{ role: "user" }]);
  });

  it("keeps a live run's lease fresh with heartbeats, so the sweep leaves it alone", async () => {
    const clock = testClock(new Date("2026-05-01T12:00:00Z"));
    const hold = gate();
    const convo = await openTestConvo(engine, {
      clock: clock.now,
      runs: {
        heartbeatMs: 20,
        leaseMs: 30_000,
        models: { models: { model: scriptedModel([hold.promise, ...textParts(["ok"])]) }, defaultModel: "model" },
      },
    });
    const { userId, conversationId } = await userWithConversation(convo);
    const { run } = await convo.runs.start(userId, conversationId, { content: "go" });
    clock.advance(20_000);
    for (let i = 0; i < 100; i++) {
      const lease = (await convo.runs.get(userId, run.id)).leaseExpiresAt;
      if (lease && lease.getTime() >= clock.now().getTime() + 30_000) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    clock.advance(20_000); // 40 s after the start, 20 s after the last heartbeat
    expect(await convo.runs.expireLeases()).toBe(0);
    hold.open();
    expect((await untilEnd(convo, userId, run.id)).at(-1)?.type).toBe("done");
  });

  it("follows a conversation: new messages and its runs' events, live", async () => {
    const convo = await openTestConvo(engine, { runs: { models: { env: {}, offline: { chunkDelayMs: 1 } } } });
    const { userId, conversationId } = await userWithConversation(convo);
    await convo.messages.append(userId, conversationId, { role: "system", content: "old, not replayed" });
    const feed = await convo.runs.feed.follow(userId, conversationId);
    const items: string[] = [];
    const collecting = (async () => {
      for await (const item of feed) {
        items.push(item.type === "message" ? `message:${item.message.role}:${item.message.content}` : `event:${item.event.type}`);
        if (item.type === "message" && item.message.content === "from another device") return;
      }
    })();
    const { run } = await convo.runs.start(userId, conversationId, { content: "Привет" });
    const events = await untilEnd(convo, userId, run.id);
    const { message } = await convo.messages.append(userId, conversationId, { role: "user", content: "from another device" });
    await convo.runs.feed.publishMessage(message);
    await collecting;
    expect(items[0]).toBe("message:user:Привет");
    expect(items.filter((i) => i.startsWith("event:"))).toEqual(events.map((e) => `event:${e.type}`));
    expect(items.at(-2)).toBe(`message:assistant:${events.at(-1)?.content}`);
    expect(items.at(-1)).toBe("message:user:from another device");
    await expect(convo.runs.feed.follow(userId, "00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({ status: 404 });
  });
});

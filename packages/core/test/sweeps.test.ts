import { describe, expect, it } from "vitest";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";

const DAY = 24 * 60 * 60 * 1000;

describe.each(engines)("lifecycle sweeps on %s", (engine) => {
  it("deletes only conversations closed longer ago than the retention", async () => {
    const clock = testClock(new Date("2026-01-01T10:00:00Z"));
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({});
    const old = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, old.id, { role: "user", content: "old" });
    await convo.state.replace(user.id, old.id, { a: 1 }, 0);
    await convo.conversations.close(user.id, old.id);
    clock.advance(10 * DAY);
    const recent = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, recent.id, { role: "user", content: "recent" });
    await convo.conversations.close(user.id, recent.id);
    const open = await convo.conversations.create(user.id);
    clock.advance(85 * DAY); // old closed 95 days ago, recent 85 days ago
    expect(await convo.sweeps.deleteExpired()).toBe(1);
    expect(await convo.sweeps.deleteExpired()).toBe(0);
    // `recent` and `open` were created at the same instant: compare as sets.
    const ids = (await rawQuery<{ id: string }>(convo, "SELECT id FROM conversations")).map((r) => r.id);
    expect(ids.sort()).toEqual([recent.id, open.id].sort());
    expect(await rawQuery(convo, "SELECT content FROM messages")).toEqual([{ content: "recent" }]);
    expect(await rawQuery(convo, "SELECT 1 FROM conversation_states")).toHaveLength(0);
    expect((await convo.conversations.list(user.id)).total).toBe(2);
  });

  it("works in bounded batches and is idempotent", async () => {
    const clock = testClock();
    const convo = await openTestConvo(engine, { clock: clock.now, lifecycle: { sweepBatchSize: 3, sweepMaxBatches: 2 } });
    const { user } = await convo.users.create({});
    for (let i = 0; i < 8; i++) await convo.conversations.create(user.id);
    clock.advance(31 * 60_000);
    expect(await convo.sweeps.closeInactive()).toBe(6); // 2 batches of 3
    expect(await convo.sweeps.closeInactive()).toBe(2);
    expect(await convo.sweeps.closeInactive()).toBe(0);
    const reasons = await rawQuery<{ close_reason: string }>(convo, "SELECT DISTINCT close_reason FROM conversations");
    expect(reasons).toEqual([{ close_reason: "inactivity" }]);
  });

  it("gives closed untitled conversations a date title, and leaves titled ones", async () => {
    const clock = testClock(new Date("2026-11-21T09:00:00Z"));
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({});
    const untitled = await convo.conversations.create(user.id);
    const named = await convo.conversations.create(user.id, { title: "Named" });
    const stillOpen = await convo.conversations.create(user.id);
    await convo.conversations.close(user.id, untitled.id);
    await convo.conversations.close(user.id, named.id);
    const result = await convo.sweeps.runAll();
    expect(result).toEqual({
      closedInactive: 0,
      abandonedDialogs: 0,
      deletedExpired: 0,
      titledByDate: 1,
      interruptedRuns: 0,
      summariesWritten: 0,
      summaryFailures: 0,
      searchIndexedMessages: 0,
      searchIndexedConversations: 0,
      searchIndexFailures: 0,
    });
    expect((await convo.conversations.summary(user.id, untitled.id)).title).toBe("21 Nov 2026");
    expect((await convo.conversations.summary(user.id, untitled.id)).titleSource).toBe("date");
    expect((await convo.conversations.summary(user.id, named.id)).title).toBe("Named");
    expect((await convo.conversations.summary(user.id, stillOpen.id)).title).toBeNull();
    expect((await convo.sweeps.runAll()).titledByDate).toBe(0);
  });

  it("indexes closed conversations for search and reports it; a failing indexer is reported and counted, the other sweeps go on", async () => {
    const clock = testClock(new Date("2026-11-21T09:00:00Z"));
    const sources: string[] = [];
    const convo = await openTestConvo(engine, {
      clock: clock.now,
      onBackgroundError: (_error, { source }) => sources.push(source),
    });
    const { user } = await convo.users.create({});
    const made: string[] = [];
    for (const lines of [["кот", "пёс"], ["шляпа"]]) {
      const c = await convo.conversations.create(user.id);
      for (const content of lines) await convo.messages.append(user.id, c.id, { role: "user", content });
      made.push(c.id);
    }
    clock.advance(31 * 60_000);
    const first = await convo.sweeps.runAll(); // closes both as idle, then indexes them
    expect(first).toMatchObject({
      closedInactive: 2,
      searchIndexedMessages: 3,
      searchIndexedConversations: 2,
      searchIndexFailures: 0,
    });
    expect(await rawQuery(convo, "SELECT count(*)::int AS n FROM message_search")).toEqual([{ n: 3 }]);
    expect(await convo.sweeps.runAll()).toMatchObject({ searchIndexedMessages: 0, searchIndexedConversations: 0 });

    // An index that refuses rows: the indexer fails and the failure is reported; the
    // sweeps before it still close and summarize. (The conversation is closed by the
    // sweep, not by close(), whose background summary could hold the row meanwhile.)
    await rawQuery(convo, "ALTER TABLE message_search ADD CONSTRAINT refuse_all CHECK (seq < 0) NOT VALID");
    const c = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, c.id, { role: "user", content: "кот" });
    clock.advance(31 * 60_000);
    const failed = await convo.sweeps.runAll();
    expect(failed).toMatchObject({ closedInactive: 1, summariesWritten: 1, searchIndexedMessages: 0, searchIndexFailures: 1 });
    expect(sources).toEqual(["search-index"]);
    // Search is still right: the indexed message and the unindexed one (matched on the fly).
    const hits = (await convo.search.query(user.id, { q: "кот" })).items.filter((h) => h.kind === "message");
    expect(hits.map((h) => h.conversationId).sort()).toEqual([made[0], c.id].sort());

    await rawQuery(convo, "ALTER TABLE message_search DROP CONSTRAINT refuse_all");
    expect(await convo.sweeps.runAll()).toMatchObject({
      searchIndexedMessages: 1,
      searchIndexedConversations: 1,
      searchIndexFailures: 0,
    });
  });
});

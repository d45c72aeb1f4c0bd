import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError } from "../src/index.js";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";

const MINUTE = 60_000;

describe.each(engines)("messages on %s", (engine) => {
  it("gives 16 concurrent appends to one conversation seq 1..16 exactly", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const conversation = await convo.conversations.create(user.id);
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => convo.messages.append(user.id, conversation.id, { role: "user", content: `m${i}` })),
    );
    expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const rows = await rawQuery<{ seq: number }>(convo, "SELECT seq FROM messages ORDER BY seq");
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const summary = await convo.conversations.summary(user.id, conversation.id);
    expect(summary.messageCount).toBe(16);
  });

  it("stores one row for a retried clientMessageId, also when the retries race", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const conversation = await convo.conversations.create(user.id);
    const first = await convo.messages.append(user.id, conversation.id, {
      role: "user",
      content: "hello",
      clientMessageId: "c-1",
    });
    const retry = await convo.messages.append(user.id, conversation.id, {
      role: "user",
      content: "hello",
      clientMessageId: "c-1",
    });
    expect(first.created).toBe(true);
    expect(retry.created).toBe(false);
    expect(retry.message).toEqual(first.message);
    const racing = await Promise.all(
      Array.from({ length: 8 }, () =>
        convo.messages.append(user.id, conversation.id, { role: "user", content: "again", clientMessageId: "c-2" }),
      ),
    );
    expect(racing.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(racing.map((r) => r.message.id)).size).toBe(1);
    const rows = await rawQuery<{ seq: number }>(convo, "SELECT seq FROM messages ORDER BY seq");
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
    expect((await convo.conversations.summary(user.id, conversation.id)).messageCount).toBe(2);
  });

  it("refuses a clientMessageId reused in another conversation", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const a = await convo.conversations.create(user.id);
    const b = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, a.id, { role: "user", content: "x", clientMessageId: "k" });
    await expect(
      convo.messages.append(user.id, b.id, { role: "user", content: "x", clientMessageId: "k" }),
    ).rejects.toMatchObject({
      code: "CLIENT_MESSAGE_ID_REUSED",
    });
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(1);
  });

  it("keeps parts and the noise flag, and pages by afterSeq", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const conversation = await convo.conversations.create(user.id);
    const parts = [
      { type: "image", fileId: "AgACAgIAAxkBAAI" },
      { type: "tool-call", name: "current_time", args: {} },
    ];
    await convo.messages.append(user.id, conversation.id, { role: "system", content: "Welcome!", noise: true });
    for (let i = 0; i < 5; i++) {
      await convo.messages.append(user.id, conversation.id, {
        role: i % 2 ? "assistant" : "user",
        content: `m${i}`,
        parts: i === 0 ? parts : null,
      });
    }
    const page1 = await convo.messages.page(user.id, conversation.id, { limit: 4 });
    expect(page1.items.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(page1.hasMore).toBe(true);
    expect(page1.items[0]?.noise).toBe(true);
    expect(page1.items[1]?.parts).toEqual(parts);
    const page2 = await convo.messages.page(user.id, conversation.id, { afterSeq: page1.nextAfterSeq!, limit: 4 });
    expect(page2.items.map((m) => m.seq)).toEqual([5, 6]);
    expect(page2.hasMore).toBe(false);
    expect(page2.nextAfterSeq).toBeNull();
  });

  it("answers the last N messages oldest first", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const conversation = await convo.conversations.create(user.id);
    for (let i = 1; i <= 30; i++) {
      await convo.messages.append(user.id, conversation.id, { role: "user", content: `m${i}`, noise: i === 29 });
    }
    const last = await convo.messages.last(user.id, conversation.id);
    expect(last.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
    const clean = await convo.messages.last(user.id, conversation.id, { limit: 3, withoutNoise: true });
    expect(clean.map((m) => m.content)).toEqual(["m27", "m28", "m30"]);
    const empty = await convo.conversations.create(user.id);
    expect(await convo.messages.last(user.id, empty.id)).toEqual([]);
    const { user: other } = await convo.users.create({});
    await expect(convo.messages.last(other.id, conversation.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("does not let one user touch another's conversation", async () => {
    const convo = await openTestConvo(engine);
    const { user: a } = await convo.users.create({});
    const { user: b } = await convo.users.create({});
    const conversation = await convo.conversations.create(a.id);
    await expect(convo.messages.append(b.id, conversation.id, { role: "user", content: "x" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(convo.messages.page(b.id, conversation.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(convo.conversations.get(b.id, conversation.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(convo.conversations.delete(b.id, conversation.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(convo.conversations.rename(b.id, conversation.id, "mine")).rejects.toBeInstanceOf(NotFoundError);
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(0);
    expect((await convo.conversations.summary(a.id, conversation.id)).title).toBeNull();
  });

  it("refuses appends to a closed conversation", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const conversation = await convo.conversations.create(user.id);
    await convo.conversations.close(user.id, conversation.id);
    await expect(convo.messages.append(user.id, conversation.id, { role: "user", content: "late" })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(0);
  });
});

describe.each(engines)("append to current on %s", (engine) => {
  it("puts three exchanges in one conversation, six messages in order", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({ externalId: "480637186" });
    const conversationIds = new Set<string>();
    for (let i = 1; i <= 3; i++) {
      const q = await convo.messages.appendToCurrent(user.id, { role: "user", content: `Вопрос ${i}` });
      const a = await convo.messages.appendToCurrent(user.id, { role: "assistant", content: `Ответ ${i}` });
      conversationIds.add(q.conversation.id).add(a.conversation.id);
      expect(q.conversationCreated).toBe(i === 1);
    }
    expect(conversationIds.size).toBe(1);
    const [id] = [...conversationIds];
    const detail = await convo.conversations.get(user.id, id!);
    expect(detail.messages.map((m) => [m.seq, m.role, m.content])).toEqual([
      [1, "user", "Вопрос 1"],
      [2, "assistant", "Ответ 1"],
      [3, "user", "Вопрос 2"],
      [4, "assistant", "Ответ 2"],
      [5, "user", "Вопрос 3"],
      [6, "assistant", "Ответ 3"],
    ]);
    expect(detail.title).toBe("Вопрос 1");
    expect(detail.titleSource).toBe("heuristic");
  });

  it("opens a new conversation after the sweep closed one idle for 31 minutes", async () => {
    const clock = testClock();
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({});
    const first = await convo.messages.appendToCurrent(user.id, { role: "user", content: "hi" });
    clock.advance(31 * MINUTE);
    const swept = await convo.sweeps.closeInactive();
    expect(swept).toBe(1);
    const closed = await convo.conversations.summary(user.id, first.conversation.id);
    expect(closed.status).toBe("closed");
    expect(closed.closeReason).toBe("inactivity");
    expect(closed.closedAt?.getTime()).toBe(clock.now().getTime());
    const next = await convo.messages.appendToCurrent(user.id, { role: "user", content: "back again" });
    expect(next.conversationCreated).toBe(true);
    expect(next.conversation.id).not.toBe(first.conversation.id);
    expect(next.message.seq).toBe(1);
    expect(await convo.sweeps.closeInactive()).toBe(0);
  });

  it("closes an idle conversation itself when the sweep has not run yet", async () => {
    const clock = testClock();
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({});
    const first = await convo.messages.appendToCurrent(user.id, { role: "user", content: "hi" });
    clock.advance(29 * MINUTE);
    const same = await convo.messages.appendToCurrent(user.id, { role: "user", content: "still here" });
    expect(same.conversation.id).toBe(first.conversation.id);
    clock.advance(31 * MINUTE);
    const next = await convo.messages.appendToCurrent(user.id, { role: "user", content: "new day" });
    expect(next.conversation.id).not.toBe(first.conversation.id);
    const old = await convo.conversations.summary(user.id, first.conversation.id);
    expect(old.closeReason).toBe("inactivity");
  });

  it("opens one conversation when two first messages race", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => convo.messages.appendToCurrent(user.id, { role: "user", content: `m${i}` })),
    );
    expect(new Set(results.map((r) => r.conversation.id)).size).toBe(1);
    expect(results.map((r) => r.message.seq).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("creates the conversation keyed externalId on first use and reuses it", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const key = "480637186_1767475520";
    const a = await convo.messages.appendToCurrent(user.id, { role: "user", content: "one", externalId: key });
    const b = await convo.messages.appendToCurrent(user.id, { role: "assistant", content: "two", externalId: key });
    const other = await convo.messages.appendToCurrent(user.id, { role: "user", content: "three", externalId: `${key}x` });
    expect(a.conversationCreated).toBe(true);
    expect(b.conversationCreated).toBe(false);
    expect(b.conversation.id).toBe(a.conversation.id);
    expect(b.message.seq).toBe(2);
    expect(other.conversation.id).not.toBe(a.conversation.id);
    expect(a.conversation.externalId).toBe(key);
    const list = await convo.conversations.list(user.id);
    expect(list.total).toBe(2);
  });

  it("answers the stored message for a retried clientMessageId", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const first = await convo.messages.appendToCurrent(user.id, { role: "user", content: "x", clientMessageId: "tg:1" });
    const again = await convo.messages.appendToCurrent(user.id, { role: "user", content: "x", clientMessageId: "tg:1" });
    expect(again.created).toBe(false);
    expect(again.message.id).toBe(first.message.id);
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(1);
  });

  it("answers 404 for an unknown user and writes nothing", async () => {
    const convo = await openTestConvo(engine);
    await expect(
      convo.messages.appendToCurrent("00000000-0000-4000-8000-000000000000", { role: "user", content: "x" }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await rawQuery(convo, "SELECT 1 FROM conversations")).toHaveLength(0);
  });
});

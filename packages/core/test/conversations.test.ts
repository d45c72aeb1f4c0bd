import { describe, expect, it } from "vitest";
import type { Convo } from "../src/index.js";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";

const MINUTE = 60_000;

async function walk(convo: Convo, userId: string, options: { limit: number; status?: "active" | "closed"; env?: string }) {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await convo.conversations.list(userId, { ...options, cursor });
    seen.push(...page.items.map((c) => c.id));
    if (!page.hasMore) return seen;
    cursor = page.nextCursor!;
  }
  throw new Error("pagination did not end");
}

describe.each(engines)("conversations on %s", (engine) => {
  it("lists newest activity first with total, hasMore, nextCursor and counts", async () => {
    const clock = testClock();
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({});
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      const c = await convo.conversations.create(user.id);
      for (let m = 0; m < i; m++) await convo.messages.append(user.id, c.id, { role: "user", content: `m${m}` });
      ids.push(c.id);
    }
    const page = await convo.conversations.list(user.id, { limit: 3 });
    expect(page.total).toBe(7);
    expect(page.hasMore).toBe(true);
    expect(page.items.map((c) => c.id)).toEqual(ids.slice(-3).reverse());
    expect(page.items.map((c) => c.messageCount)).toEqual([6, 5, 4]);
    expect(page.items.every((c) => c.isActive)).toBe(true);
    expect(await walk(convo, user.id, { limit: 3 })).toEqual([...ids].reverse());
    const last = await convo.conversations.list(user.id, { limit: 7 });
    expect(last.hasMore).toBe(false);
    expect(last.nextCursor).toBeNull();
  });

  it("stays correct across pages while new messages arrive", async () => {
    const clock = testClock();
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({});
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      ids.push((await convo.conversations.create(user.id)).id);
    }
    const newestFirst = [...ids].reverse();
    const first = await convo.conversations.list(user.id, { limit: 4 });
    expect(first.items.map((c) => c.id)).toEqual(newestFirst.slice(0, 4));
    // Activity moves an unseen conversation (ids[1]) and a seen one (ids[9]) to the top.
    clock.advance(1000);
    await convo.messages.append(user.id, ids[1]!, { role: "user", content: "bump" });
    clock.advance(1000);
    await convo.messages.append(user.id, ids[9]!, { role: "user", content: "bump" });
    const rest: string[] = [];
    let cursor = first.nextCursor!;
    for (;;) {
      const page = await convo.conversations.list(user.id, { limit: 4, cursor });
      rest.push(...page.items.map((c) => c.id));
      if (!page.hasMore) break;
      cursor = page.nextCursor!;
    }
    // No duplicates, nothing older skipped; the bumped unseen one is at the top now.
    const seen = [...first.items.map((c) => c.id), ...rest];
    expect(new Set(seen).size).toBe(seen.length);
    expect(rest).toEqual(newestFirst.slice(4).filter((id) => id !== ids[1]));
    const fresh = await convo.conversations.list(user.id, { limit: 2 });
    expect(fresh.items.map((c) => c.id)).toEqual([ids[9], ids[1]]);
    expect(fresh.total).toBe(10);
  });

  it("filters by status and env, with matching totals", async () => {
    const clock = testClock();
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({});
    const a = await convo.conversations.create(user.id);
    const b = await convo.conversations.create(user.id, { env: "test" });
    const c = await convo.conversations.create(user.id);
    await convo.conversations.close(user.id, a.id);
    const active = await convo.conversations.list(user.id, { status: "active" });
    expect(active.items.map((x) => x.id).sort()).toEqual([b.id, c.id].sort());
    expect(active.total).toBe(2);
    const closed = await convo.conversations.list(user.id, { status: "closed" });
    expect(closed.items.map((x) => x.id)).toEqual([a.id]);
    expect(closed.total).toBe(1);
    const test = await convo.conversations.list(user.id, { env: "test" });
    expect(test.items.map((x) => x.id)).toEqual([b.id]);
    expect(test.total).toBe(1);
    const prodActive = await convo.conversations.list(user.id, { env: "prod", status: "active" });
    expect(prodActive.items.map((x) => x.id)).toEqual([c.id]);
    expect(prodActive.total).toBe(1);
    // Idle past the threshold counts as closed before the sweep runs.
    clock.advance(31 * MINUTE);
    const later = await convo.conversations.list(user.id, { status: "active" });
    expect(later.total).toBe(0);
    expect((await convo.conversations.list(user.id, { status: "closed" })).total).toBe(3);
  });

  it("refuses a cursor from another list", async () => {
    const convo = await openTestConvo(engine);
    const { user: a } = await convo.users.create({});
    const { user: b } = await convo.users.create({});
    for (let i = 0; i < 3; i++) {
      await convo.conversations.create(a.id);
      await convo.conversations.create(b.id);
    }
    const page = await convo.conversations.list(a.id, { limit: 1 });
    await expect(convo.conversations.list(b.id, { limit: 1, cursor: page.nextCursor! })).rejects.toMatchObject({
      code: "INVALID_CURSOR",
      status: 400,
    });
    await expect(convo.conversations.list(a.id, { limit: 1, cursor: page.nextCursor!, status: "active" })).rejects.toMatchObject({
      code: "INVALID_CURSOR",
    });
    await expect(convo.conversations.list(a.id, { cursor: "not-a-cursor!" })).rejects.toMatchObject({ code: "INVALID_CURSOR" });
    await expect(convo.conversations.list(a.id, { cursor: Buffer.from('{"l":1}').toString("base64url") })).rejects.toMatchObject({
      code: "INVALID_CURSOR",
    });
  });

  it("keeps a manual rename over automatic titles", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const named = await convo.conversations.create(user.id);
    await convo.conversations.rename(user.id, named.id, "Мой чат 🐱");
    await convo.messages.append(user.id, named.id, { role: "user", content: "Сделай стикер" });
    expect(await convo.conversations.setModelTitle(user.id, named.id, "Model title")).toBe(false);
    expect((await convo.conversations.summary(user.id, named.id)).title).toBe("Мой чат 🐱");

    const auto = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, auto.id, { role: "system", content: "Welcome", noise: true });
    expect((await convo.conversations.summary(user.id, auto.id)).title).toBeNull();
    await convo.messages.append(user.id, auto.id, { role: "user", content: "Сделай **стикер** с котом" });
    await convo.messages.append(user.id, auto.id, { role: "user", content: "second message" });
    const titled = await convo.conversations.summary(user.id, auto.id);
    expect(titled.title).toBe("Сделай стикер с котом");
    expect(titled.titleSource).toBe("heuristic");
    expect(await convo.conversations.setModelTitle(user.id, auto.id, "Стикер с котом")).toBe(true);
    expect((await convo.conversations.summary(user.id, auto.id)).titleSource).toBe("model");
  });

  it("closes with a reason, idempotently, and creates with closeCurrent", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const a = await convo.conversations.create(user.id);
    const closed = await convo.conversations.close(user.id, a.id, "app");
    expect(closed.closeReason).toBe("app");
    const again = await convo.conversations.close(user.id, a.id, "user");
    expect(again.closeReason).toBe("app");
    expect(again.closedAt).toEqual(closed.closedAt);
    const b = await convo.conversations.create(user.id);
    const c = await convo.conversations.create(user.id, { closeCurrent: true, title: "Новый" });
    expect((await convo.conversations.summary(user.id, b.id)).closeReason).toBe("user");
    expect(c.isActive).toBe(true);
    expect(c.title).toBe("Новый");
  });

  it("deletes a conversation with its messages and state", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const keep = await convo.conversations.create(user.id);
    const gone = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, gone.id, { role: "user", content: "x" });
    await convo.messages.append(user.id, keep.id, { role: "user", content: "y" });
    await convo.state.replace(user.id, gone.id, { step: 1 }, 0);
    await convo.conversations.delete(user.id, gone.id);
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(1);
    expect(await rawQuery(convo, "SELECT 1 FROM conversation_states")).toHaveLength(0);
    const list = await convo.conversations.list(user.id);
    expect(list.total).toBe(1);
    expect(list.items.map((c) => c.id)).toEqual([keep.id]);
    await expect(convo.conversations.get(user.id, gone.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("deletes the messages of every conversation a deleted user had (the cascade without a foreign key)", async () => {
    const convo = await openTestConvo(engine);
    const { user: leaving } = await convo.users.create({});
    const { user: staying } = await convo.users.create({});
    for (const user of [leaving, staying]) {
      const conversation = await convo.conversations.create(user.id);
      await convo.messages.append(user.id, conversation.id, { role: "user", content: "hello" });
    }
    await rawQuery(convo, `DELETE FROM users WHERE id = '${leaving.id}'`);
    const left = await rawQuery<{ user_id: string }>(convo, "SELECT user_id FROM messages");
    expect(left).toEqual([{ user_id: staying.id }]);
  });
});

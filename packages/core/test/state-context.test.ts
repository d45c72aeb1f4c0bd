import { describe, expect, it } from "vitest";
import { mergeHistory } from "../src/context/service.js";
import { mergePatch } from "../src/index.js";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";

describe("mergePatch (RFC 7396)", () => {
  it("merges objects, deletes on null, replaces arrays", () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { b: { c: null, x: 1 }, e: [2], f: "new" })).toEqual({
      a: 1,
      b: { d: 3, x: 1 },
      e: [2],
      f: "new",
    });
  });
});

describe("mergeHistory", () => {
  it("adds only the client's messages that are not stored", () => {
    const stored = [
      { id: "1", role: "user", content: "a" },
      { id: "2", role: "assistant", content: "b", clientMessageId: "x" },
    ];
    const given = [
      { role: "assistant", content: "b" },
      { id: "1", role: "user", content: "edited" },
      { role: "user", content: "c", clientMessageId: "y" },
    ];
    expect(mergeHistory(stored, given, 20).map((m) => m.content)).toEqual(["a", "b", "c"]);
    expect(mergeHistory(stored, given, 2).map((m) => m.content)).toEqual(["b", "c"]);
  });
});

describe.each(engines)("conversation state on %s", (engine) => {
  it("replaces and patches with optimistic concurrency", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id);
    expect(await convo.state.get(user.id, c.id)).toMatchObject({ version: 0, doc: {} });
    const v1 = await convo.state.replace(user.id, c.id, { attemptCount: 1, entities: { pet: "кот" } }, 0);
    expect(v1.version).toBe(1);
    const v2 = await convo.state.patch(user.id, c.id, { attemptCount: 2, entities: { color: "red" } }, 1);
    expect(v2).toMatchObject({ version: 2, doc: { attemptCount: 2, entities: { pet: "кот", color: "red" } } });
    await expect(convo.state.replace(user.id, c.id, { lost: true }, 1)).rejects.toMatchObject({
      code: "STATE_VERSION_CONFLICT",
      status: 409,
    });
    await expect(convo.state.patch(user.id, c.id, { lost: true }, 0)).rejects.toMatchObject({ code: "STATE_VERSION_CONFLICT" });
    expect((await convo.state.get(user.id, c.id)).doc).toEqual({ attemptCount: 2, entities: { pet: "кот", color: "red" } });
  });

  it("lets exactly one of two racing writers win", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id);
    const results = await Promise.allSettled([
      convo.state.replace(user.id, c.id, { by: "a" }, 0),
      convo.state.replace(user.id, c.id, { by: "b" }, 0),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect((await convo.state.get(user.id, c.id)).version).toBe(1);
  });

  it("hides another user's state and refuses NUL inside the document", async () => {
    const convo = await openTestConvo(engine);
    const { user: a } = await convo.users.create({});
    const { user: b } = await convo.users.create({});
    const c = await convo.conversations.create(a.id);
    await expect(convo.state.get(b.id, c.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(convo.state.replace(b.id, c.id, { x: 1 }, 0)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(convo.state.replace(a.id, c.id, { x: "a\u0000b" }, 0)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(convo.state.replace(a.id, c.id, [1] as unknown as Record<string, unknown>, 0)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    expect(await rawQuery(convo, "SELECT 1 FROM conversation_states")).toHaveLength(0);
  });
});

describe.each(engines)("context loader on %s", (engine) => {
  it("hands the model the current conversation, previous sessions and the profile", async () => {
    const clock = testClock();
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({ profile: { name: "Аня", language: "ru" } });
    const previous: string[] = [];
    for (let s = 0; s < 4; s++) {
      const r = await convo.messages.appendToCurrent(user.id, { role: "user", content: `Сессия ${s}` });
      await convo.messages.appendToCurrent(user.id, { role: "assistant", content: `Ответ ${s}` });
      previous.push(r.conversation.id);
      await convo.conversations.close(user.id, r.conversation.id);
      clock.advance(60_000);
    }
    await convo.conversations.setSummary(user.id, previous[3]!, "Talked about cats");
    const current = await convo.messages.appendToCurrent(user.id, { role: "system", content: "Welcome!", noise: true });
    for (let i = 0; i < 25; i++) {
      await convo.messages.appendToCurrent(user.id, { role: i % 2 ? "assistant" : "user", content: `m${i}` });
    }
    const context = await convo.context.load(user.id);
    expect(context.conversation?.id).toBe(current.conversation.id);
    expect(context.conversationHistory).toHaveLength(20);
    expect(context.conversationHistory.map((m) => m.content)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 5}`));
    expect(context.sessionHistory.map((s) => s.id)).toEqual([previous[3], previous[2], previous[1]]);
    expect(context.sessionHistory[0]).toMatchObject({
      title: "Сессия 3",
      status: "closed",
      messageCount: 2,
      summary: "Talked about cats",
    });
    expect(context.userProfile).toEqual({ name: "Аня", language: "ru" });

    const small = await convo.context.load(user.id, {
      conversationId: current.conversation.id,
      historyLimit: 30,
      sessionsLimit: 1,
      history: [
        { role: "user", content: "m24" },
        { role: "user", content: "not stored yet" },
      ],
    });
    expect(small.conversationHistory).toHaveLength(26); // 25 stored (noise dropped) + 1 new
    expect(small.conversationHistory.at(-1)?.content).toBe("not stored yet");
    expect(small.conversationHistory.some((m) => m.content === "Welcome!")).toBe(false);
    expect(small.sessionHistory).toHaveLength(1);
  });

  it("answers an empty history when the user has no active conversation", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const context = await convo.context.load(user.id);
    expect(context).toMatchObject({ conversation: null, conversationHistory: [], sessionHistory: [], userProfile: {} });
  });
});

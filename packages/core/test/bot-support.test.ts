/**
 * What a bot toolkit needs of the library (issue 13): a run answering a user message
 * stored already, a conversation opened by the client's key, and the dialog expiry
 * answering whose dialogs it abandoned.
 */
import { describe, expect, it } from "vitest";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";
import { untilEnd } from "./support/runs.js";

describe.each(engines)("bot support on %s", (engine) => {
  it("starts a run answering a stored user message, once, and refuses other messages", async () => {
    const convo = await openTestConvo(engine, { runs: { models: { offline: { chunkDelayMs: 0 } } } });
    const { user } = await convo.users.create({ externalId: "tg:1" });
    const { message, conversation } = await convo.messages.appendToCurrent(user.id, {
      role: "user",
      content: "Привет",
      clientMessageId: "tg-update:1",
    });
    const first = await convo.runs.start(user.id, conversation.id, { messageId: message.id });
    expect(first).toMatchObject({ created: true, message: { id: message.id, seq: 1 } });
    const again = await convo.runs.start(user.id, conversation.id, { messageId: message.id });
    expect(again).toMatchObject({ created: false, run: { id: first.run.id } });
    await untilEnd(convo, user.id, first.run.id);
    // One user message (not stored twice) and the run's answer.
    expect(await rawQuery(convo, "SELECT role FROM messages ORDER BY seq")).toEqual([{ role: "user" }, { role: "assistant" }]);

    const [answer] = await rawQuery<{ id: string }>(convo, "SELECT id FROM messages WHERE role = 'assistant'");
    await expect(convo.runs.start(user.id, conversation.id, { messageId: answer!.id })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { field: "messageId" },
    });
    const other = await convo.conversations.create(user.id);
    await expect(convo.runs.start(user.id, other.id, { messageId: message.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(convo.runs.start(user.id, conversation.id, { messageId: "not-a-uuid" })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });

  it("opens a conversation by key once, and expires idle dialogs answering their owners", async () => {
    const clock = testClock(new Date("2026-11-21T10:00:00Z"));
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({ externalId: "tg:480637186" });
    const a = await convo.conversations.openByKey(user.id, "grammy-session:480637186", { env: "grammy-sessions" });
    const b = await convo.conversations.openByKey(user.id, "grammy-session:480637186", { env: "grammy-sessions" });
    expect([a.created, b.created, b.conversation.id]).toEqual([true, false, a.conversation.id]);

    const dialog = await convo.dialogs.create(user.id);
    clock.advance(29 * 60_000);
    expect(await convo.sweeps.expireDialogs()).toEqual([]);
    clock.advance(2 * 60_000);
    expect(await convo.sweeps.expireDialogs()).toEqual([
      { dialogId: dialog.id, userId: user.id, env: "prod", externalId: "tg:480637186" },
    ]);
    expect(await convo.dialogs.get(user.id, dialog.id)).toMatchObject({ status: "abandoned" });
    expect(await convo.sweeps.expireDialogs()).toEqual([]);
  });
});

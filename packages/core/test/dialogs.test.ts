import { describe, expect, it } from "vitest";
import { type Convo, type Dialog, isConvoError } from "../src/index.js";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";

const MINUTE = 60_000;

/** The stored row, for checking that a refused change changed nothing. */
async function stored(convo: Convo, id: string) {
  const [row] = await rawQuery(convo, `SELECT * FROM assistant_sessions WHERE id = '${id}'`);
  return row;
}

/** Expects `promise` to fail with a typed error of this status and code. */
async function expectRefused(promise: Promise<unknown>, status: number, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isConvoError(error), `expected a ConvoError, got ${String(error)}`).toBe(true);
  expect(error).toMatchObject({ status, code });
}

async function setup(engine: Parameters<typeof openTestConvo>[0]) {
  const clock = testClock(new Date("2026-02-08T10:00:00Z"));
  const convo = await openTestConvo(engine, { clock: clock.now });
  const { user } = await convo.users.create({ externalId: "tg:1" });
  return { clock, convo, user };
}

describe.each(engines)("assistant dialogs on %s", (engine) => {
  it("creates an active dialog with the design's defaults and reads it back", async () => {
    const { convo, user } = await setup(engine);
    const conversation = await convo.conversations.create(user.id);
    const dialog = await convo.dialogs.create(user.id, { env: "test", sessionId: conversation.id });
    expect(dialog).toMatchObject({
      userId: user.id,
      sessionId: conversation.id,
      status: "active",
      env: "test",
      currentStep: 0,
      confirmed: false,
      errorCount: 0,
      messages: [],
      goal: null,
      stickerText: null,
      completedAt: null,
      importKey: null,
    });
    expect(await convo.dialogs.get(user.id, dialog.id)).toEqual(dialog);
    expect(await convo.dialogs.getActive(user.id)).toEqual(dialog);
    expect(await convo.dialogs.ownerOf(dialog.id)).toBe(user.id);
    expect((await convo.dialogs.create(user.id)).env).toBe("prod");
  });

  it("hides another user's dialog and conversation (404) and refuses bad input (422)", async () => {
    const { convo, user } = await setup(engine);
    const { user: other } = await convo.users.create({ externalId: "tg:2" });
    const theirs = await convo.conversations.create(other.id);
    const dialog = await convo.dialogs.create(user.id);
    await expectRefused(convo.dialogs.get(other.id, dialog.id), 404, "NOT_FOUND");
    await expectRefused(convo.dialogs.update(other.id, dialog.id, { style: "x" }), 404, "NOT_FOUND");
    await expectRefused(convo.dialogs.close(other.id, dialog.id, "abandoned"), 404, "NOT_FOUND");
    await expectRefused(convo.dialogs.create(user.id, { sessionId: theirs.id }), 404, "NOT_FOUND");
    await expectRefused(convo.dialogs.create("00000000-0000-4000-8000-000000000000"), 404, "NOT_FOUND");
    await expectRefused(convo.dialogs.getActive("00000000-0000-4000-8000-000000000000"), 404, "NOT_FOUND");
    await expectRefused(convo.dialogs.update(user.id, dialog.id, { currentStep: 8 }), 422, "VALIDATION_FAILED");
    await expectRefused(convo.dialogs.update(user.id, dialog.id, { currentStep: 2.5 }), 422, "VALIDATION_FAILED");
    await expectRefused(convo.dialogs.update(user.id, dialog.id, { style: "a\u0000b" }), 422, "VALIDATION_FAILED");
    await expectRefused(convo.dialogs.update(user.id, dialog.id, { goal: "\ud800" }), 422, "VALIDATION_FAILED");
    await expectRefused(convo.dialogs.update(user.id, dialog.id, { colour: "red" } as never), 422, "VALIDATION_FAILED");
    await expectRefused(
      convo.dialogs.update(user.id, dialog.id, { appendMessages: [{ role: "robot", content: "x" }] } as never),
      422,
      "VALIDATION_FAILED",
    );
    await expectRefused(convo.dialogs.close(user.id, dialog.id, "active" as never), 422, "VALIDATION_FAILED");
    await expectRefused(convo.dialogs.get(user.id, "not-a-uuid"), 422, "VALIDATION_FAILED");
    expect(await stored(convo, dialog.id)).toMatchObject({ style: null, current_step: 0, goal: null, messages: [] });
  });

  it("sets slots, clears sticker text with null, and appends messages without losing earlier ones", async () => {
    const { clock, convo, user } = await setup(engine);
    const dialog = await convo.dialogs.create(user.id);
    clock.advance(MINUTE);
    const first = await convo.dialogs.update(user.id, dialog.id, {
      goal: "a sticker for my sister",
      currentStep: 1,
      appendMessages: [
        { role: "assistant", content: "What is the sticker for?" },
        { role: "user", content: "a sticker for my sister" },
      ],
    });
    expect(first.updatedAt.getTime()).toBe(dialog.createdAt.getTime() + MINUTE);
    clock.advance(MINUTE);
    const second = await convo.dialogs.update(user.id, dialog.id, {
      style: "anime",
      emotion: "joy",
      pose: "wave",
      stickerText: "Hi!",
      currentStep: 5,
      photoFileId: "AgAD-photo-1",
      appendMessages: [{ role: "assistant", content: "Text on the sticker?" }],
    });
    expect(second.messages.map((m) => m.content)).toEqual([
      "What is the sticker for?",
      "a sticker for my sister",
      "Text on the sticker?",
    ]);
    const third = await convo.dialogs.update(user.id, dialog.id, { stickerText: null, currentStep: 6 });
    expect(third).toMatchObject({ goal: "a sticker for my sister", style: "anime", stickerText: null, currentStep: 6 });
    expect(third.messages).toHaveLength(3);
    // Concurrent appends both land: the chat is extended in SQL, never rewritten from a read.
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        convo.dialogs.update(user.id, dialog.id, { appendMessages: [{ role: "user", content: `c${i}` }] }),
      ),
    );
    const after = await convo.dialogs.get(user.id, dialog.id);
    expect(after.messages).toHaveLength(9);
    expect(after.messages.slice(0, 3)).toEqual(third.messages);
    expect(new Set(after.messages.slice(3).map((m) => m.content))).toEqual(new Set(["c0", "c1", "c2", "c3", "c4", "c5"]));
  });

  it.each([
    ["completed", { status: "completed", confirmed: true }],
    ["abandoned", { status: "abandoned", confirmed: false, completedAt: null }],
    ["error", { status: "error", confirmed: false, completedAt: null }],
  ] as const)(
    "closes as %s; afterwards every change is refused with DIALOG_CLOSED and changes nothing",
    async (status, expected) => {
      const { clock, convo, user } = await setup(engine);
      const dialog = await convo.dialogs.create(user.id);
      await convo.dialogs.update(user.id, dialog.id, { style: "pixel", pendingPhotoFileId: "new-photo" });
      clock.advance(MINUTE);
      const closed = await convo.dialogs.close(user.id, dialog.id, status);
      expect(closed).toMatchObject(expected);
      expect(closed.updatedAt.getTime()).toBe(clock.now().getTime());
      if (status === "completed") expect(closed.completedAt?.getTime()).toBe(clock.now().getTime());
      expect(await convo.dialogs.getActive(user.id)).toBeNull();
      const before = await stored(convo, dialog.id);
      clock.advance(MINUTE);
      const attempts: (() => Promise<unknown>)[] = [
        () => convo.dialogs.update(user.id, dialog.id, { style: "other", appendMessages: [{ role: "user", content: "x" }] }),
        () => convo.dialogs.update(user.id, dialog.id, {}),
        () => convo.dialogs.close(user.id, dialog.id, "completed"),
        () => convo.dialogs.close(user.id, dialog.id, "abandoned"),
        () => convo.dialogs.close(user.id, dialog.id, "error"),
        () => convo.dialogs.recordModelError(user.id, dialog.id),
        () => convo.dialogs.recordModelSuccess(user.id, dialog.id),
        () => convo.dialogs.setPendingPhoto(user.id, dialog.id, "another"),
        () => convo.dialogs.resolvePendingPhoto(user.id, dialog.id, "take"),
        () => convo.dialogs.resolvePendingPhoto(user.id, dialog.id, "keep"),
      ];
      for (const attempt of attempts) await expectRefused(attempt(), 409, "DIALOG_CLOSED");
      const refusal = await convo.dialogs.close(user.id, dialog.id, "completed").catch((e: unknown) => e);
      expect(refusal).toMatchObject({ details: { id: dialog.id, status } });
      expect(await stored(convo, dialog.id)).toEqual(before);
    },
  );

  it("restarts: a new dialog abandons the active one; many dialogs over time, never two active", async () => {
    const { clock, convo, user } = await setup(engine);
    const first = await convo.dialogs.create(user.id);
    clock.advance(MINUTE);
    const second = await convo.dialogs.create(user.id);
    expect((await convo.dialogs.get(user.id, first.id)).status).toBe("abandoned");
    await convo.dialogs.close(user.id, second.id, "completed");
    clock.advance(MINUTE);
    const third = await convo.dialogs.create(user.id);
    expect((await convo.dialogs.get(user.id, second.id)).status).toBe("completed");
    expect((await convo.dialogs.getActive(user.id))?.id).toBe(third.id);
    const rows = await rawQuery<{ status: string }>(
      convo,
      `SELECT status FROM assistant_sessions WHERE user_id = '${user.id}' ORDER BY created_at`,
    );
    expect(rows.map((r) => r.status)).toEqual(["abandoned", "completed", "active"]);
    // Concurrent starts queue on the user's row: all succeed, the last one stays active.
    const started = await Promise.all(Array.from({ length: 8 }, () => convo.dialogs.create(user.id)));
    const [counts] = await rawQuery<{ active: number; total: number }>(
      convo,
      `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*)::int AS total
       FROM assistant_sessions WHERE user_id = '${user.id}'`,
    );
    expect(counts).toEqual({ active: 1, total: 11 });
    expect(started.map((d) => d.id)).toContain((await convo.dialogs.getActive(user.id))?.id);
    // The database refuses a second active dialog whatever the code path.
    await expect(rawQuery(convo, `INSERT INTO assistant_sessions (user_id) VALUES ('${user.id}')`)).rejects.toThrow();
  });

  it("closeActive leaves for the manual menu, and answers null when nothing is active", async () => {
    const { convo, user } = await setup(engine);
    expect(await convo.dialogs.closeActive(user.id)).toBeNull();
    const dialog = await convo.dialogs.create(user.id);
    const closed = await convo.dialogs.closeActive(user.id);
    expect(closed).toMatchObject({ id: dialog.id, status: "abandoned" });
    expect(await convo.dialogs.closeActive(user.id)).toBeNull();
  });

  it("ends as error on the third model error in a row and says so; a success in between resets the count", async () => {
    const { convo, user } = await setup(engine);
    const dialog = await convo.dialogs.create(user.id);
    expect(await convo.dialogs.recordModelError(user.id, dialog.id)).toMatchObject({
      fellBack: false,
      dialog: { errorCount: 1, status: "active" },
    });
    expect((await convo.dialogs.recordModelError(user.id, dialog.id)).dialog.errorCount).toBe(2);
    expect((await convo.dialogs.recordModelSuccess(user.id, dialog.id)).errorCount).toBe(0);
    expect((await convo.dialogs.recordModelError(user.id, dialog.id)).fellBack).toBe(false);
    expect((await convo.dialogs.recordModelError(user.id, dialog.id)).fellBack).toBe(false);
    const third = await convo.dialogs.recordModelError(user.id, dialog.id);
    expect(third).toMatchObject({ fellBack: true, dialog: { status: "error", errorCount: 3, completedAt: null } });
    await expectRefused(convo.dialogs.recordModelError(user.id, dialog.id), 409, "DIALOG_CLOSED");
    expect((await stored(convo, dialog.id))?.error_count).toBe(3);
    expect(await convo.dialogs.getActive(user.id)).toBeNull();
  });

  it("counts concurrent model errors exactly: three at once end the dialog once", async () => {
    const { convo, user } = await setup(engine);
    const dialog = await convo.dialogs.create(user.id);
    const results = await Promise.all([0, 1, 2].map(() => convo.dialogs.recordModelError(user.id, dialog.id)));
    expect(results.filter((r) => r.fellBack)).toHaveLength(1);
    expect((await convo.dialogs.get(user.id, dialog.id)).errorCount).toBe(3);
  });

  it("swaps the photo both ways: keep the old one, or take the new one", async () => {
    const { convo, user } = await setup(engine);
    const dialog = await convo.dialogs.create(user.id);
    await convo.dialogs.update(user.id, dialog.id, { photoFileId: "old" });
    await expectRefused(convo.dialogs.resolvePendingPhoto(user.id, dialog.id, "take"), 409, "NO_PENDING_PHOTO");
    const pending = await convo.dialogs.setPendingPhoto(user.id, dialog.id, "new-1");
    expect(pending).toMatchObject({ photoFileId: "old", pendingPhotoFileId: "new-1" });
    const kept = await convo.dialogs.resolvePendingPhoto(user.id, dialog.id, "keep");
    expect(kept).toMatchObject({ photoFileId: "old", pendingPhotoFileId: null });
    await convo.dialogs.setPendingPhoto(user.id, dialog.id, "new-2");
    const taken = await convo.dialogs.resolvePendingPhoto(user.id, dialog.id, "take");
    expect(taken).toMatchObject({ photoFileId: "new-2", pendingPhotoFileId: null });
    await expectRefused(convo.dialogs.resolvePendingPhoto(user.id, dialog.id, "keep"), 409, "NO_PENDING_PHOTO");
    await expectRefused(convo.dialogs.resolvePendingPhoto(user.id, dialog.id, "swap" as never), 422, "VALIDATION_FAILED");
    expect(await convo.dialogs.get(user.id, dialog.id)).toMatchObject({ photoFileId: "new-2", pendingPhotoFileId: null });
  });

  it("abandons dialogs idle for 30 minutes in the sweep, and only those", async () => {
    const clock = testClock(new Date("2026-02-08T10:00:00Z"));
    const convo = await openTestConvo(engine, { clock: clock.now, lifecycle: { sweepBatchSize: 2, sweepMaxBatches: 10 } });
    const dialogs: Dialog[] = [];
    for (let i = 0; i < 5; i++) {
      const { user } = await convo.users.create({ externalId: `tg:${i}` });
      dialogs.push(await convo.dialogs.create(user.id));
    }
    const [busy, done] = [dialogs[3]!, dialogs[4]!];
    await convo.dialogs.close(done.userId, done.id, "completed");
    clock.advance(20 * MINUTE);
    await convo.dialogs.update(busy.userId, busy.id, { appendMessages: [{ role: "user", content: "still here" }] });
    clock.advance(10 * MINUTE); // the idle three: exactly 30 minutes; busy: 10
    const result = await convo.sweeps.runAll();
    expect(result.abandonedDialogs).toBe(3);
    const statuses = await Promise.all(dialogs.map(async (d) => (await convo.dialogs.get(d.userId, d.id)).status));
    expect(statuses).toEqual(["abandoned", "abandoned", "abandoned", "active", "completed"]);
    const swept = await convo.dialogs.get(dialogs[0]!.userId, dialogs[0]!.id);
    expect(swept.updatedAt.getTime()).toBe(clock.now().getTime());
    await expectRefused(convo.dialogs.update(swept.userId, swept.id, { style: "late" }), 409, "DIALOG_CLOSED");
    expect(await convo.sweeps.abandonIdleDialogs()).toBe(0);
    clock.advance(30 * MINUTE);
    expect(await convo.sweeps.abandonIdleDialogs()).toBe(1);
  });

  it("uses the configured inactivity for dialogs", async () => {
    const clock = testClock();
    const convo = await openTestConvo(engine, { clock: clock.now, lifecycle: { dialogInactivityMs: 5 * MINUTE } });
    const { user } = await convo.users.create({});
    await convo.dialogs.create(user.id);
    clock.advance(4 * MINUTE);
    expect(await convo.sweeps.abandonIdleDialogs()).toBe(0);
    clock.advance(MINUTE);
    expect(await convo.sweeps.abandonIdleDialogs()).toBe(1);
  });

  it("keeps the dialog when its conversation is deleted, with session_id set null", async () => {
    const { convo, user } = await setup(engine);
    const conversation = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, conversation.id, { role: "user", content: "make me a sticker" });
    const dialog = await convo.dialogs.create(user.id, { sessionId: conversation.id });
    await convo.dialogs.update(user.id, dialog.id, { goal: "sticker", style: "anime" });
    await convo.conversations.delete(user.id, conversation.id);
    const after = await convo.dialogs.get(user.id, dialog.id);
    expect(after).toMatchObject({ sessionId: null, userId: user.id, goal: "sticker", style: "anime", status: "active" });
  });

  it("joins the caller's transaction and rolls back with it", async () => {
    const { convo, user } = await setup(engine);
    const dialog = await convo.dialogs.create(user.id);
    await expect(
      convo.transaction(async () => {
        await convo.dialogs.update(user.id, dialog.id, { style: "rolled back" });
        await convo.dialogs.create(user.id);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await convo.dialogs.getActive(user.id)).toMatchObject({ id: dialog.id, style: null });
  });
});

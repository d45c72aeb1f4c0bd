/**
 * The reference sticker bot end to end: real grammY long polling a fake Bot API, on
 * Convo in-process, on every engine. Each journey is what a user does in Telegram;
 * the assertions read what the bot sent (the fake's records) and what Convo stored.
 */
import { describe, expect, test } from "vitest";
import { engines, rawQuery, testClock } from "../../core/test/support/engines.js";
import { russianTexts as t } from "../src/bot/texts.js";
import type { TgUser } from "./support/fake-bot-api.js";
import { failingGemini } from "./support/fake-gemini.js";
import { type BotHarness, botHarness, expectNoErrors } from "./support/harness.js";

const anna: TgUser = { id: 480637186, first_name: "Аня", username: "anna" };
const boris: TgUser = { id: 555000111, first_name: "Борис" };

type Row = Record<string, unknown>;
const dialogs = (h: BotHarness) =>
  rawQuery<Row>(
    h.convo,
    "SELECT status, goal, style, emotion, pose, sticker_text, confirmed, current_step, photo_file_id, pending_photo_file_id, error_count FROM assistant_sessions ORDER BY created_at, id",
  );

/** The happy path up to the summary: goal, photo, style, emotion, pose, text. */
async function fillDialog(h: BotHarness, user: TgUser, slots: { text?: string } = {}) {
  const { fake } = h;
  await h.send(fake.text(user, "/start"));
  await h.send(fake.text(user, t.menuAssistant));
  await h.send(fake.text(user, "поздравить сестру с днём рождения"));
  await h.send(fake.photo(user, `photo-${user.id}-1`));
  await h.send(fake.text(user, "аниме"));
  await h.send(fake.text(user, "радость"));
  await h.send(fake.text(user, "машет рукой"));
  if (slots.text === undefined) await h.send(fake.press(user, "assistant_no_text"));
  else await h.send(fake.text(user, slots.text));
}

describe.each(engines)("sticker bot journeys on %s", (engine) => {
  test("happy path: /start, the assistant's six questions, confirm → a sticker and a completed dialog", async () => {
    const h = await botHarness(engine);
    await fillDialog(h, anna, { text: "С днём рождения!" });
    const texts = h.fake.textsTo(anna.id);
    expect(texts).toEqual([
      t.welcome,
      t.askGoal,
      t.askPhoto,
      t.askStyle,
      t.askEmotion,
      t.askPose,
      t.askText,
      expect.stringContaining("Проверьте параметры"),
    ]);
    expect(texts.at(-1)).toContain("💬 Текст: С днём рождения!");
    await h.send(h.fake.press(anna, "assistant_confirm"));
    expect(h.fake.called("answerCallbackQuery")).toHaveLength(1);
    expect(h.fake.called("getFile").map((c) => c.params.file_id)).toEqual([`photo-${anna.id}-1`]);
    expect(h.fake.called("sendSticker")).toHaveLength(1);
    expect(h.fake.lastTextTo(anna.id)).toBe(t.done);

    const userId = await h.userId(anna);
    const user = await h.convo.users.get(userId);
    expect(user).toMatchObject({
      externalId: `tg:${anna.id}`,
      displayName: "Аня",
      profile: { telegramId: anna.id, username: "anna" },
    });
    expect(await h.convo.dialogs.getActive(userId)).toBeNull();
    const [dialog] = await rawQuery<Record<string, unknown>>(h.convo, "SELECT * FROM assistant_sessions");
    expect(dialog).toMatchObject({
      goal: "поздравить сестру с днём рождения",
      photo_file_id: `photo-${anna.id}-1`,
      style: "аниме",
      emotion: "радость",
      pose: "машет рукой",
      sticker_text: "С днём рождения!",
      confirmed: true,
      current_step: 7,
      status: "completed",
    });
    // Every update is one message of the conversation the dialog links to.
    const messages = await rawQuery<{ role: string; content: string; noise: boolean; client_message_id: string }>(
      h.convo,
      "SELECT role, content, noise, client_message_id FROM messages ORDER BY seq",
    );
    const fromUser = messages.filter((m) => m.client_message_id.startsWith("tg-update:"));
    expect(fromUser.map((m) => m.content)).toEqual([
      "/start",
      t.menuAssistant,
      "поздравить сестру с днём рождения",
      "[photo]",
      "аниме",
      "радость",
      "машет рукой",
      "С днём рождения!",
      "assistant_confirm",
    ]);
    expect(messages.find((m) => m.content === t.welcome)).toMatchObject({ role: "assistant", noise: true });
    expectNoErrors(h);
  });

  test("photo swap: a new photo mid-dialog waits in pendingPhotoFileId; «new photo» takes it, «keep photo» keeps the old", async () => {
    const h = await botHarness(engine);
    const { fake } = h;
    await h.send(fake.text(anna, t.menuAssistant));
    await h.send(fake.text(anna, "стикер для друга"));
    await h.send(fake.photo(anna, "photo-A"));
    await h.send(fake.photo(anna, "photo-B"));
    expect(fake.lastTextTo(anna.id)).toBe(t.photoSwap);
    expect(await dialogs(h)).toMatchObject([{ photo_file_id: "photo-A", pending_photo_file_id: "photo-B", current_step: 2 }]);
    await h.send(fake.press(anna, "assistant_new_photo"));
    expect(fake.textsTo(anna.id).slice(-2)).toEqual([t.photoTaken, t.askStyle]);
    expect(await dialogs(h)).toMatchObject([{ photo_file_id: "photo-B", pending_photo_file_id: null }]);

    await h.send(fake.text(anna, "пиксель-арт"));
    await h.send(fake.photo(anna, "photo-C"));
    await h.send(fake.press(anna, "assistant_keep_photo"));
    expect(fake.textsTo(anna.id).slice(-2)).toEqual([t.photoKept, t.askEmotion]);
    expect(await dialogs(h)).toMatchObject([
      { photo_file_id: "photo-B", pending_photo_file_id: null, style: "пиксель-арт", status: "active" },
    ]);
    // A second tap on an answered swap button changes nothing and re-asks the question.
    await h.send(fake.press(anna, "assistant_keep_photo"));
    expect(fake.lastTextTo(anna.id)).toBe(t.askEmotion);
    // Photos are stored as parts with their file_id (the largest size).
    const parts = await rawQuery<{ parts: Array<{ type: string; fileId: string }> }>(
      h.convo,
      "SELECT parts FROM messages WHERE parts IS NOT NULL AND content = '[photo]' ORDER BY seq",
    );
    expect(parts.map((p) => p.parts[0])).toMatchObject([
      { type: "photo", fileId: "photo-A" },
      { type: "photo", fileId: "photo-B" },
      { type: "photo", fileId: "photo-C" },
    ]);
    expectNoErrors(h);
  });

  test("restart: «🔄 Заново» at the summary abandons the dialog and starts a new one at step 0", async () => {
    const h = await botHarness(engine);
    await fillDialog(h, anna);
    expect(h.fake.lastTextTo(anna.id)).toContain("💬 Текст: без текста");
    await h.send(h.fake.press(anna, "assistant_restart"));
    expect(h.fake.lastTextTo(anna.id)).toBe(t.askGoal);
    expect(await dialogs(h)).toMatchObject([
      { status: "abandoned", current_step: 6, style: "аниме", sticker_text: null },
      { status: "active", current_step: 0, goal: null },
    ]);
    // The old summary's confirm button now belongs to the new dialog, which is not at the summary: it is re-asked.
    await h.send(h.fake.press(anna, "assistant_confirm"));
    expect(h.fake.lastTextTo(anna.id)).toBe(t.askGoal);
    expect(h.fake.called("sendSticker")).toHaveLength(0);
    expectNoErrors(h);
  });

  test("abandon through the menu: «🎨 Стили» mid-dialog ends it as abandoned and shows the manual menu", async () => {
    const h = await botHarness(engine);
    await h.send(h.fake.text(anna, t.menuAssistant));
    await h.send(h.fake.text(anna, "смешной стикер"));
    await h.send(h.fake.text(anna, t.menuStyles));
    expect(h.fake.lastTextTo(anna.id)).toBe(t.manualMenu);
    expect(await dialogs(h)).toMatchObject([{ status: "abandoned", goal: "смешной стикер", current_step: 1 }]);
    // A photo now is outside any dialog.
    await h.send(h.fake.photo(anna, "photo-late"));
    expect(h.fake.lastTextTo(anna.id)).toBe(t.photoOutsideDialog);
    expectNoErrors(h);
  });

  test("three model errors in a row (Gemini answering 500) → the fallback message, manual mode, the dialog ends as error", async () => {
    const gemini = await failingGemini();
    const h = await botHarness(engine, { model: gemini.model });
    await h.send(h.fake.text(anna, t.menuAssistant));
    for (const attempt of ["хочу стикер", "стикер для мамы", "ну пожалуйста"]) await h.send(h.fake.text(anna, attempt));
    expect(gemini.calls()).toBe(3);
    expect(h.fake.textsTo(anna.id).slice(-3)).toEqual([t.modelError, t.modelError, t.fallback]);
    expect(await dialogs(h)).toMatchObject([{ status: "error", error_count: 3, goal: null }]);
    expect(h.errors).toHaveLength(3);
  });

  test("30 minutes without activity: the expiry abandons the dialog and tells the user; the bot then answers in manual mode", async () => {
    const clock = testClock(new Date("2026-11-21T10:00:00Z"));
    const h = await botHarness(engine, { convoOptions: { clock: clock.now } });
    await h.send(h.fake.text(anna, t.menuAssistant));
    await h.send(h.fake.text(anna, "стикер с котом"));
    clock.advance(29 * 60_000);
    expect(await h.sticker.expireDialogs()).toBe(0);
    clock.advance(2 * 60_000);
    expect(await h.sticker.expireDialogs()).toBe(1);
    expect(h.fake.lastTextTo(anna.id)).toBe(t.expired);
    expect(await dialogs(h)).toMatchObject([{ status: "abandoned", goal: "стикер с котом", current_step: 1 }]);
    expect(await h.sticker.expireDialogs()).toBe(0);

    // Manual mode: free text is answered by a run, streamed into the chat (stream.test.ts covers the edits).
    await h.send(h.fake.text(anna, "Привет! Что ты умеешь?"));
    const answer = h.fake.lastTextTo(anna.id) as string;
    const [stored] = await rawQuery<{ content: string }>(
      h.convo,
      "SELECT content FROM messages WHERE role = 'assistant' AND run_id IS NOT NULL",
    );
    expect(answer).toBe(stored?.content);
    expect(answer).toContain("Привет! Что ты умеешь?");
    expectNoErrors(h);
  });

  test("two users at once: interleaved updates build two separate dialogs", async () => {
    const h = await botHarness(engine);
    const { fake } = h;
    const steps = (u: TgUser, style: string) => [
      fake.text(u, t.menuAssistant),
      fake.text(u, `стикер для ${u.first_name}`),
      fake.photo(u, `photo-${u.id}`),
      fake.text(u, style),
      fake.text(u, "радость"),
      fake.text(u, "прыгает"),
      fake.text(u, "Ура"),
    ];
    const a = steps(anna, "аниме");
    const b = steps(boris, "реалистичный");
    let last = 0;
    for (let i = 0; i < a.length; i++) {
      fake.push(a[i] as object);
      last = fake.push(b[i] as object);
    }
    await fake.processed(last);
    await h.send(fake.press(anna, "assistant_confirm"));
    const rows = await rawQuery<Row>(
      h.convo,
      "SELECT u.external_id, d.status, d.style, d.photo_file_id FROM assistant_sessions d JOIN users u ON u.id = d.user_id ORDER BY u.external_id",
    );
    expect(rows).toEqual([
      { external_id: `tg:${anna.id}`, status: "completed", style: "аниме", photo_file_id: `photo-${anna.id}` },
      { external_id: `tg:${boris.id}`, status: "active", style: "реалистичный", photo_file_id: `photo-${boris.id}` },
    ]);
    expect(fake.lastTextTo(boris.id)).toContain("🎨 Стиль: реалистичный");
    expectNoErrors(h);
  });

  test("an update delivered twice (the bot died before confirming it) stores one message and is answered once", async () => {
    const h = await botHarness(engine);
    await h.send(h.fake.text(anna, t.menuAssistant));
    const id = await h.send(h.fake.text(anna, "стикер на новый год"));
    const sentBefore = h.fake.called("sendMessage").length;
    await h.stop();
    h.fake.redeliver(id);
    await h.restart();
    await h.fake.processed(id);
    await h.send(h.fake.photo(anna, "photo-ny"));
    const copies = await rawQuery<{ n: number }>(
      h.convo,
      `SELECT count(*)::int AS n FROM messages WHERE client_message_id = 'tg-update:${id}'`,
    );
    expect(copies).toEqual([{ n: 1 }]);
    // Nothing was sent for the redelivery; the photo was answered with the next question.
    expect(h.fake.called("sendMessage").length).toBe(sentBefore + 1);
    expect(await dialogs(h)).toMatchObject([{ goal: "стикер на новый год", current_step: 2 }]);
    expectNoErrors(h);
  });

  test("a bot restart mid-dialog continues where the user was; /start reminds them of the current question", async () => {
    const h = await botHarness(engine);
    await h.send(h.fake.text(anna, t.menuAssistant));
    await h.send(h.fake.text(anna, "стикер для коллег"));
    await h.send(h.fake.photo(anna, "photo-work"));
    await h.restart();
    await h.send(h.fake.text(anna, "/start"));
    expect(h.fake.textsTo(anna.id).slice(-3)).toEqual([t.welcome, t.resume, t.askStyle]);
    await h.send(h.fake.text(anna, "мультяшный"));
    expect(h.fake.lastTextTo(anna.id)).toBe(t.askEmotion);
    expect(await dialogs(h)).toMatchObject([{ status: "active", style: "мультяшный", current_step: 3 }]);
    expectNoErrors(h);
  });
});

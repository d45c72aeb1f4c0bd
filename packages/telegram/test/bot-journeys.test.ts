/**
 * The reference sticker bot end to end: real grammY long polling a fake Bot API, on
 * Convo in-process, on every engine. Each journey is what a user does in Telegram;
 * the assertions read what the bot sent (the fake's records) and what Convo stored.
 */
import { describe, expect, test } from "vitest";
import { engines, rawQuery } from "../../core/test/support/engines.js";
import { russianTexts as t } from "../src/bot/texts.js";
import type { TgUser } from "./support/fake-bot-api.js";
import { type BotHarness, botHarness, expectNoErrors } from "./support/harness.js";

const anna: TgUser = { id: 480637186, first_name: "Аня", username: "anna" };

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
    expect(user).toMatchObject({ externalId: `tg:${anna.id}`, displayName: "Аня", profile: { telegramId: anna.id, username: "anna" } });
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
});

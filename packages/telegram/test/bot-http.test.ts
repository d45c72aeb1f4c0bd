/**
 * The reference bot over HTTP (`httpPort` against a real Convo server) and through the
 * webhook route of the server, on every engine: moving an existing bot onto Convo
 * (legacy import, then the same users continuing in the bot), the journeys, and the
 * analytics endpoints afterwards equal to what the journeys did.
 */
import { importLegacyDialogs } from "@convo/core";
import { describe, expect, test } from "vitest";
import { DESIGN_ANALYTICS_SQL } from "../../core/test/support/design-analytics.js";
import { engines, rawQuery, testClock } from "../../core/test/support/engines.js";
import { legacyBotTables, legacySchema } from "../../core/test/support/legacy-db.js";
import { startTestServer } from "../../server/test/support/server.js";
import { russianTexts as t } from "../src/bot/texts.js";
import { FakeBotApi, type TgUser } from "./support/fake-bot-api.js";
import { type BotHarness, botHarness, expectNoErrors } from "./support/harness.js";

const anna: TgUser = { id: 480637186, first_name: "Аня", username: "anna" };
const boris: TgUser = { id: 555000111, first_name: "Борис" };
const vera: TgUser = { id: 600700800, first_name: "Вера" };

async function happyPath(h: BotHarness, user: TgUser, goal: string, style: string, emotion: string) {
  const { fake } = h;
  await h.send(fake.text(user, t.menuAssistant));
  await h.send(fake.text(user, goal));
  await h.send(fake.photo(user, `photo-${user.id}`));
  await h.send(fake.text(user, style));
  await h.send(fake.text(user, emotion));
  await h.send(fake.text(user, "машет рукой"));
  await h.send(fake.press(user, "assistant_no_text"));
  await h.send(fake.press(user, "assistant_confirm"));
}

describe.each(engines)("the sticker bot over HTTP on %s", (engine) => {
  test("a legacy table imported, the same users continue in the bot; analytics equal what the journeys did", async () => {
    const clock = testClock(new Date("2026-11-21T10:00:00Z"));
    const h = await botHarness(engine, { mode: "http", convoOptions: { clock: clock.now } });
    const api = h.server!.api;

    // The bot before Convo: integer ids, no updated_at, Telegram ids in its users table.
    const legacy = await legacySchema(engine);
    await legacyBotTables(legacy);
    const s = legacy.schema;
    await legacy.exec(`INSERT INTO ${s}.users (telegram_id) VALUES (${anna.id}), (${boris.id})`);
    const chat = (goal: string) => JSON.stringify([{ role: "user", content: goal }]);
    await legacy.exec(
      `INSERT INTO ${s}.sessions (user_id, assistant_messages, assistant_params, assistant_error_count, created_at) VALUES
       (1, $1, '{"style":"аниме","emotion":"радость","pose":"прыжок","confirmed":true,"step":6}', 0, '2026-11-01T09:00:00Z'),
       (2, $2, '{"style":"реализм","step":2}', 0, '2026-11-02T09:00:00Z')`,
      [chat("день рождения"), chat("стикер для работы")],
    );
    const imported = await importLegacyDialogs(h.convo, legacy.source, { table: `${s}.sessions` });
    expect(imported).toMatchObject({ imported: 2, usersCreated: 2, telegramUsers: `${s}.users` });

    // Anna (imported) completes a sticker; the bot finds her imported user, not a new one.
    await h.send(h.fake.text(anna, "/start"));
    await happyPath(h, anna, "день рождения", "аниме", "радость");
    expect(h.fake.called("sendSticker")).toHaveLength(1);
    // Boris (imported) starts, swaps the photo, restarts, and leaves for the manual menu.
    await h.send(h.fake.text(boris, t.menuAssistant));
    await h.send(h.fake.text(boris, "стикер для работы"));
    await h.send(h.fake.photo(boris, "photo-b1"));
    await h.send(h.fake.photo(boris, "photo-b2"));
    await h.send(h.fake.press(boris, "assistant_new_photo"));
    await h.send(h.fake.text(boris, "мультяшный"));
    await h.send(h.fake.text(boris, t.menuAssistant)); // restart: the first is abandoned
    await h.send(h.fake.text(boris, "новогодний стикер"));
    await h.send(h.fake.text(boris, t.menuStyles)); // abandoned through the menu
    // Vera (new) sets a goal and goes quiet: the expiry abandons her dialog and tells her.
    await h.send(h.fake.text(vera, t.menuAssistant));
    await h.send(h.fake.text(vera, "день рождения"));
    clock.advance(31 * 60_000);
    expect(await h.sticker.expireDialogs()).toBe(1);
    expect(h.fake.lastTextTo(vera.id)).toBe(t.expired);
    expectNoErrors(h);

    const users = await rawQuery<{ external_id: string }>(h.convo, "SELECT external_id FROM users ORDER BY external_id");
    expect(users.map((u) => u.external_id)).toEqual([`tg:${anna.id}`, `tg:${boris.id}`, `tg:${vera.id}`]);

    // Dialogs: 2 imported (completed, abandoned) + anna completed + boris abandoned ×2 + vera abandoned.
    const report = async (name: string) => {
      const res = await api("GET", `/v1/analytics/assistant/${name}`);
      expect(res.status).toBe(200);
      return res.json;
    };
    expect(await report("funnel")).toEqual({
      funnel: { started: 6, setGoal: 6, choseStyle: 4, choseEmotion: 2, chosePose: 2, confirmed: 2, completed: 2 },
    });
    expect(await report("statuses")).toEqual({ statuses: { active: 0, completed: 2, abandoned: 4, error: 0 } });
    expect(await report("goals")).toEqual({
      goals: [
        { goal: "день рождения", count: 3 },
        { goal: "новогодний стикер", count: 1 },
        { goal: "стикер для работы", count: 2 },
      ].sort((a, b) => b.count - a.count || a.goal.localeCompare(b.goal)),
    });
    expect(await report("styles")).toEqual({ styles: [{ style: "аниме", count: 2 }] });
    expect(await report("combos")).toEqual({ combos: [{ style: "аниме", emotion: "радость", count: 2 }] });
    // Confirmed: the imported one at step 6, anna's at step 7.
    expect(await report("steps")).toEqual({ steps: { averageStep: 6.5, confirmed: 2 } });
    // …and the design's own SQL (seed 000) on the same rows says the same.
    const [design] = await rawQuery<Record<string, unknown>>(h.convo, DESIGN_ANALYTICS_SQL.funnel);
    expect(Object.values(design ?? {}).map(Number)).toEqual([6, 6, 4, 2, 2, 2, 2]);
  });

  test("the webhook route of convo serve: secret checked, updates handled, a redelivered update stored once, expiry told before the sweep", async () => {
    const fake = await FakeBotApi.start();
    const secret = "webhook-secret-of-the-test";
    const clock = testClock(new Date("2026-11-21T10:00:00Z"));
    const server = await startTestServer(engine, {
      telegram: { token: fake.token, apiRoot: fake.url, webhookSecret: secret },
      convoOptions: { clock: clock.now },
    });
    const post = (update: object, token: string | null = secret) =>
      fetch(`${server.url}/telegram/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token === null ? {} : { "x-telegram-bot-api-secret-token": token }) },
        body: JSON.stringify(update),
      });
    const update = { update_id: 9001, ...fake.text(anna, "/start") };
    expect((await post(update, "wrong")).status).toBe(401);
    expect((await post(update, null)).status).toBe(401);
    expect(await rawQuery(server.convo, "SELECT id FROM messages")).toEqual([]);

    expect((await post(update)).status).toBe(200);
    expect(fake.lastTextTo(anna.id)).toBe(t.welcome);
    // Telegram redelivers when it saw no 200 in time: the second delivery stores and sends nothing.
    expect((await post(update)).status).toBe(200);
    expect(fake.called("sendMessage")).toHaveLength(1);
    const stored = await rawQuery<{ n: number }>(
      server.convo,
      "SELECT count(*)::int AS n FROM messages WHERE client_message_id = 'tg-update:9001'",
    );
    expect(stored).toEqual([{ n: 1 }]);

    expect((await post({ update_id: 9002, ...fake.text(anna, t.menuAssistant) })).status).toBe(200);
    expect(fake.lastTextTo(anna.id)).toBe(t.askGoal);
    // The server's sweep runs the bot's expiry first, so the user is told.
    clock.advance(31 * 60_000);
    const swept = await server.server.scheduler.runOnce();
    expect(swept).toMatchObject({ abandonedDialogs: 0 });
    expect(fake.lastTextTo(anna.id)).toBe(t.expired);
    expect(await rawQuery(server.convo, "SELECT status FROM assistant_sessions")).toEqual([{ status: "abandoned" }]);
    await fake.close();
  });
});

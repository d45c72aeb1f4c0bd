/**
 * `convo bot` as a real process (long polling the fake Bot API), killed with SIGKILL
 * mid-dialog and started again: the user continues where they were, because where
 * they were lives in Convo. On PGlite (a data directory) and on PostgreSQL (a schema).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConvo } from "@convo/core";
import { afterEach, describe, expect, onTestFinished, test } from "vitest";
import { dropSchema, engines, rawQuery, testSchemaName } from "../../core/test/support/engines.js";
import { cleanEnv, killAll, type Spawned, spawnConvo, stop } from "../../server/test/support/cli.js";
import { startTestServer } from "../../server/test/support/server.js";
import { russianTexts as t } from "../src/bot/texts.js";
import { FakeBotApi, type TgUser } from "./support/fake-bot-api.js";

const anna: TgUser = { id: 480637186, first_name: "Аня" };

afterEach(killAll);

/** Starts `convo bot` and waits until it says it is polling. */
async function startBot(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Spawned> {
  const bot = spawnConvo(["bot", ...args], env);
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (bot.stdout().includes("is polling")) resolve();
    };
    bot.child.stdout?.on("data", check);
    bot.exited.then((code) => reject(new Error(`convo bot exited (${code}):\n${bot.stdout()}\n${bot.stderr()}`)));
  });
  return bot;
}

describe.each(engines)("convo bot process on %s", (engine) => {
  test("killed mid-dialog and restarted, it continues where the user was", async () => {
    const fake = await FakeBotApi.start();
    onTestFinished(() => fake.close());
    const place: Record<string, string> = {};
    let options: { databaseUrl?: string; schema?: string; dataDir?: string };
    if (engine === "postgres") {
      const schema = testSchemaName();
      place.DATABASE_URL = process.env.TEST_DATABASE_URL as string;
      place.CONVO_SCHEMA = schema;
      options = { databaseUrl: place.DATABASE_URL, schema };
      onTestFinished(() => dropSchema("postgres", schema));
    } else {
      const dir = mkdtempSync(join(tmpdir(), "convo-bot-"));
      place.CONVO_DATA_DIR = dir;
      options = { dataDir: dir };
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    }
    const env = cleanEnv({ ...place, TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.url });
    const send = async (update: object) => fake.processed(fake.push(update));

    const first = await startBot(env);
    await send(fake.text(anna, t.menuAssistant));
    await send(fake.text(anna, "стикер для мамы"));
    await send(fake.photo(anna, "photo-mama"));
    expect(fake.lastTextTo(anna.id)).toBe(t.askStyle);
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");

    const second = await startBot(env);
    await send(fake.text(anna, "акварель"));
    expect(fake.lastTextTo(anna.id)).toBe(t.askEmotion);
    expect(await stop(second)).toBe(0);

    const convo = await openConvo(options);
    try {
      const rows = await rawQuery<Record<string, unknown>>(
        convo,
        "SELECT status, goal, photo_file_id, style, current_step FROM assistant_sessions",
      );
      expect(rows).toEqual([
        { status: "active", goal: "стикер для мамы", photo_file_id: "photo-mama", style: "акварель", current_step: 3 },
      ]);
    } finally {
      await convo.close();
    }
  });

  test("--convo-url: the bot on a Convo server over HTTP, with an admin key", async () => {
    const fake = await FakeBotApi.start();
    onTestFinished(() => fake.close());
    const server = await startTestServer(engine);
    const env = cleanEnv({
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.url,
      CONVO_API_KEY: server.adminKey as string,
    });
    const send = async (update: object) => fake.processed(fake.push(update));
    const bot = await startBot(env, ["--convo-url", server.url]);
    expect(bot.stdout()).toContain(`(Convo at ${server.url}, slot model offline)`);
    await send(fake.text(anna, t.menuAssistant));
    await send(fake.text(anna, "стикер для папы"));
    expect(fake.lastTextTo(anna.id)).toBe(t.askPhoto);
    expect(await stop(bot)).toBe(0);
    const rows = await rawQuery<Record<string, unknown>>(
      server.convo,
      "SELECT status, goal, current_step FROM assistant_sessions",
    );
    expect(rows).toEqual([{ status: "active", goal: "стикер для папы", current_step: 1 }]);
  });
});

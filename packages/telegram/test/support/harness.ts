/**
 * A real grammY sticker bot, long polling a fake Bot API, on Convo in the current
 * test's schema — in-process (`localPort`) or over HTTP (`httpPort` against a real
 * Convo server on an ephemeral port). Everything is stopped when the test ends.
 */
import type { Convo, ConvoOptions } from "@convo/core";
import type { LanguageModel } from "ai";
import { expect, onTestFinished } from "vitest";
import { type EngineName, openTestConvo } from "../../../core/test/support/engines.js";
import { startTestServer, type TestServer } from "../../../server/test/support/server.js";
import { createStickerBot, type StickerBot } from "../../src/bot/index.js";
import { httpPort, localPort } from "../../src/index.js";
import type { ConvoPort } from "../../src/port/types.js";
import { FakeBotApi, type TgUser } from "./fake-bot-api.js";

export type PortMode = "local" | "http";

export interface BotHarness {
  fake: FakeBotApi;
  convo: Convo;
  port: ConvoPort;
  server?: TestServer;
  sticker: StickerBot;
  /** Failures the bot reported (handler errors, model errors). */
  errors: unknown[];
  /** Pushes an update and waits until the bot handled it; answers its update_id. */
  send(update: object & { update_id?: number }): Promise<number>;
  /** Stops polling (a clean stop, or as a killed process would: nothing more is handled). */
  stop(): Promise<void>;
  /** Starts a new bot process on the same Convo and fake (a restart). */
  restart(): Promise<void>;
  userId(user: TgUser): Promise<string>;
}

export interface HarnessOptions {
  mode?: PortMode;
  convoOptions?: Partial<ConvoOptions>;
  model?: LanguageModel;
}

/** Fast runs: the offline model streams without pauses. */
const RUNS = { models: { offline: { chunkDelayMs: 0 } } };

export async function botHarness(engine: EngineName, options: HarnessOptions = {}): Promise<BotHarness> {
  const mode = options.mode ?? "local";
  const fake = await FakeBotApi.start();
  const convoOptions = { ...options.convoOptions, runs: RUNS };
  let convo: Convo;
  let port: ConvoPort;
  let server: TestServer | undefined;
  if (mode === "local") {
    convo = await openTestConvo(engine, convoOptions);
    port = localPort(convo);
  } else {
    server = await startTestServer(engine, { convoOptions });
    convo = server.convo;
    port = httpPort({ url: server.url, apiKey: server.adminKey });
  }
  const errors: unknown[] = [];
  const make = () =>
    createStickerBot({
      token: fake.token,
      port,
      apiRoot: fake.url,
      model: options.model,
      stream: { editIntervalMs: 0 },
      onError: (error) => errors.push(error),
    });
  let sticker = make();
  let polling: Promise<void> | undefined;
  const start = () => {
    polling = sticker.bot.start({ timeout: 30 });
  };
  const stop = async () => {
    if (sticker.bot.isRunning()) await sticker.bot.stop();
    await polling;
  };
  start();
  onTestFinished(async () => {
    await stop();
    await fake.close();
  });
  const harness: BotHarness = {
    fake,
    convo,
    port,
    server,
    get sticker() {
      return sticker;
    },
    errors,
    async send(update) {
      const id = fake.push(update);
      await fake.processed(id);
      return id;
    },
    stop,
    async restart() {
      await stop();
      sticker = make();
      start();
    },
    async userId(user) {
      return (await convo.users.getByExternalId(`tg:${user.id}`)).id;
    },
  };
  return harness;
}

/** Asserts the bot reported nothing unexpected. */
export function expectNoErrors(h: BotHarness): void {
  expect(h.errors.map((e) => (e instanceof Error ? e.message : String(e)))).toEqual([]);
}

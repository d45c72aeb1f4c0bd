/**
 * The reference Telegram bot inside Convo's processes: `convo bot` (long polling) and
 * the webhook route of `convo serve`. Both run the bot on the library in-process.
 *
 * Environment: `TELEGRAM_BOT_TOKEN` (required), `TELEGRAM_API_ROOT` (default
 * `https://api.telegram.org`; tests point it at a fake), `TELEGRAM_WEBHOOK_SECRET`
 * (the webhook's secret token; the route is mounted only with it), `CONVO_BOT_ENV`
 * (default `prod`), and the model settings of `slotModelFromEnv`.
 */
import type { Convo } from "@convo/core";
import { type ConvoPort, localPort } from "@convo/telegram";
import { createStickerBot, type StickerBot, slotModelFromEnv } from "@convo/telegram/bot";
import { webhookCallback } from "grammy";
import type { TelegramConfig } from "./config.js";
import type { App } from "./routes/types.js";

/** The reference bot on a port (Convo in-process or over HTTP). */
export function stickerBotOn(
  port: ConvoPort,
  config: TelegramConfig,
  onError: (error: unknown) => void,
): StickerBot & { modelName: string } {
  const { model, name } = slotModelFromEnv();
  const bot = createStickerBot({ token: config.token, port, apiRoot: config.apiRoot, env: config.env, model, onError });
  return { ...bot, modelName: name };
}

/** The reference bot on this process's Convo. */
export function referenceBot(
  convo: Convo,
  config: TelegramConfig,
  onError: (error: unknown) => void,
): StickerBot & { modelName: string } {
  return stickerBotOn(localPort(convo), config, onError);
}

/** Where Telegram posts updates when the webhook is set (`setWebhook` with this URL and the secret). */
export const WEBHOOK_PATH = "/telegram/webhook";

/**
 * Mounts `POST /telegram/webhook`: each request is one update, accepted only with the
 * `X-Telegram-Bot-Api-Secret-Token` header equal to the configured secret (401
 * otherwise, answered by grammY). Answers the bot so the server can run its expiry.
 */
export function mountWebhook(app: App, convo: Convo, config: TelegramConfig & { webhookSecret: string }): StickerBot {
  const sticker = referenceBot(convo, config, (error) => app.log.error({ err: error }, "telegram update failed"));
  app.post(
    WEBHOOK_PATH,
    { schema: { hide: true } },
    webhookCallback(sticker.bot, "fastify", { secretToken: config.webhookSecret }),
  );
  return sticker;
}

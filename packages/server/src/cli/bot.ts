/**
 * `convo bot`: the reference Telegram sticker assistant, long polling — on Convo
 * in-process (the database of --database-url / --data-dir), or on a Convo server over
 * HTTP with --convo-url (and $CONVO_API_KEY).
 */
import type { Convo } from "@convo/core";
import type { Command } from "commander";
import { telegramFromEnv } from "../config.js";
import { StartupError } from "../startup-error.js";
import { configWith, openFromFlags, withDatabaseOptions } from "./options.js";

export function registerBotCommand(program: Command): void {
  withDatabaseOptions(
    program
      .command("bot")
      .description(
        "Run the reference Telegram sticker assistant with long polling ($TELEGRAM_BOT_TOKEN; $TELEGRAM_API_ROOT for another Bot API server)",
      )
      .option("--convo-url <url>", "use a Convo server over HTTP instead of a database (admin key in $CONVO_API_KEY)")
      .option("--expiry-interval <ms>", "how often to expire idle dialogs and run the sweeps (default 60000)", Number),
  ).action(async (flags) => {
    const telegram = telegramFromEnv();
    if (!telegram) throw new StartupError("Set TELEGRAM_BOT_TOKEN (from @BotFather) to run the bot", "NO_BOT_TOKEN");
    const { stickerBotOn } = await import("../telegram.js");
    const { localPort, httpPort } = await import("@convo/telegram");
    let convo: Convo | undefined;
    let where: string;
    if (flags.convoUrl) {
      if (!/^https?:\/\//.test(flags.convoUrl))
        throw new StartupError("--convo-url must start with http:// or https://", "BAD_CONVO_URL");
      where = `Convo at ${flags.convoUrl}`;
    } else {
      convo = await openFromFlags(flags);
      const config = configWith(flags);
      where = config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.dataDir}`;
    }
    const port = convo ? localPort(convo) : httpPort({ url: flags.convoUrl, apiKey: process.env.CONVO_API_KEY || undefined });
    const { bot, expireDialogs, modelName } = stickerBotOn(port, telegram, (error) => console.error("convo bot:", error));
    try {
      await bot.init();
    } catch (error) {
      await convo?.close();
      throw new StartupError(`Telegram refused the bot token or is unreachable: ${(error as Error).message}`, "BOT_INIT_FAILED", {
        cause: error,
      });
    }
    console.log(`Convo bot @${bot.botInfo.username} is polling (${where}, slot model ${modelName})`);

    const interval = flags.expiryInterval ?? 60_000;
    let ticking: Promise<unknown> | undefined;
    // The expiry tells each user; in-process, the sweeps then close idle conversations
    // as serve would (a server runs its own).
    const tick = () => {
      ticking ??= expireDialogs()
        .then(() => convo?.sweeps.runAll())
        .catch((error: unknown) => console.error("convo bot: expiry failed:", error))
        .finally(() => {
          ticking = undefined;
        });
    };
    const timer = interval > 0 ? setInterval(tick, interval) : undefined;
    const shutdown = async () => {
      clearInterval(timer);
      await bot.stop();
      await ticking;
      await convo?.close();
      process.exit(0);
    };
    process.once("SIGINT", () => void shutdown());
    process.once("SIGTERM", () => void shutdown());
    // A webhook set earlier would keep getUpdates from working: bot.start() deletes it.
    await bot.start({ drop_pending_updates: false });
  });
}

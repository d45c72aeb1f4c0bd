/**
 * The reference sticker assistant (seed 000): the manual menu and the guided dialog
 * — goal (step 0), photo (1, with the photo swap), style (2), emotion (3), pose (4),
 * sticker text or none (5), confirmation (6; 7 once confirmed) — on Convo.
 *
 * Where the user is lives in Convo, not in the process: the active dialog's
 * `currentStep` and slots say what to ask next, so a restarted bot continues where
 * the user was. Free text is turned into slots by the model (`extractSlots`); three
 * model errors in a row end the dialog as `error` and the bot falls back to manual
 * mode. `expireDialogs()` abandons dialogs idle for 30 minutes and tells their users.
 */
import { autoRetry } from "@grammyjs/auto-retry";
import type { LanguageModel } from "ai";
import { Bot, type BotConfig, type Context, InlineKeyboard, Keyboard } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import { convoCodeOf } from "../errors.js";
import { type ConvoFlavor, convoMiddleware } from "../middleware.js";
import type { ConvoPort, PortDialog, PortDialogUpdate } from "../port/types.js";
import type { StreamOptions } from "../stream.js";
import { type StickerGenerator, stubGenerator } from "./generator.js";
import { extractSlots, offlineSlotModel, type Slots } from "./slots.js";
import { russianTexts, type Texts } from "./texts.js";

export type StickerBotContext = Context & ConvoFlavor;

export interface StickerBotOptions {
  /** The bot token from @BotFather. */
  token: string;
  /** Convo in-process (`localPort`) or over HTTP (`httpPort`). */
  port: ConvoPort;
  /** Bot API root (default `https://api.telegram.org`; tests point it at a fake). */
  apiRoot?: string;
  /** The deployment the bot's dialogs count under (default `prod`). */
  env?: string;
  /** The slot-extraction model (default: the offline model). */
  model?: LanguageModel;
  /** Makes the sticker on confirmation (default: the placeholder stub). */
  generator?: StickerGenerator;
  /** The bot's texts (default Russian). */
  texts?: Texts;
  /** How free-text answers in manual mode are streamed. */
  stream?: StreamOptions;
  /** Skip `getMe` at start (tests, webhooks that know the bot). */
  botInfo?: UserFromGetMe;
  /** Logs a failed update (default `console.error`); the bot keeps running. */
  onError?: (error: unknown) => void;
}

export interface StickerBot {
  bot: Bot<StickerBotContext>;
  /** Abandons dialogs idle past the threshold and tells each user; answers how many. */
  expireDialogs(): Promise<number>;
}

const CB = {
  confirm: "assistant_confirm",
  restart: "assistant_restart",
  newPhoto: "assistant_new_photo",
  keepPhoto: "assistant_keep_photo",
  noText: "assistant_no_text",
} as const;

/**
 * The step a dialog should be at: the first slot still missing (6 = confirmation).
 *
 * @example
 * nextStep({ ...dialog, goal: "кот", photoFileId: null }, false); // 1: the photo
 */
export function nextStep(d: PortDialog, textDecided: boolean): number {
  if (!d.goal) return 0;
  if (!d.photoFileId) return 1;
  if (!d.style) return 2;
  if (!d.emotion) return 3;
  if (!d.pose) return 4;
  if (!textDecided) return 5;
  return 6;
}

/**
 * Applies extracted slots to a dialog: the patch and the step it leads to.
 *
 * @example
 * const { patch, step } = applySlots(dialog, await extractSlots(model, dialog, text));
 * await ctx.convo.dialog.update(dialog.id, { ...patch, currentStep: step });
 */
export function applySlots(d: PortDialog, slots: Slots): { patch: PortDialogUpdate; step: number } {
  const patch: PortDialogUpdate = {};
  for (const key of ["goal", "style", "emotion", "pose", "stickerText"] as const) {
    const value = slots[key];
    if (value) patch[key] = value;
  }
  const noText = slots.noText === true && d.currentStep === 5;
  if (noText) patch.stickerText = null;
  const merged = { ...d, ...patch };
  const textDecided = noText || merged.stickerText !== null || d.currentStep >= 6;
  return { patch, step: nextStep(merged, textDecided) };
}

/**
 * Creates the reference bot. Start it with `bot.start()` (long polling) or mount
 * `webhookCallback(bot, …)`; run `expireDialogs()` every minute.
 *
 * @example
 * const { bot, expireDialogs } = createStickerBot({ token: process.env.TELEGRAM_BOT_TOKEN!, port: localPort(convo) });
 * setInterval(() => void expireDialogs(), 60_000);
 * await bot.start();
 */
export function createStickerBot(options: StickerBotOptions): StickerBot {
  const t = options.texts ?? russianTexts;
  const model = options.model ?? offlineSlotModel();
  const generator = options.generator ?? stubGenerator();
  const env = options.env ?? "prod";
  const config: BotConfig<StickerBotContext> = { client: options.apiRoot ? { apiRoot: options.apiRoot } : undefined };
  if (options.botInfo) config.botInfo = options.botInfo;
  const bot = new Bot<StickerBotContext>(options.token, config);
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30 }));
  bot.use(convoMiddleware<Context>({ port: options.port, env, stream: options.stream }));

  const menu = new Keyboard().text(t.menuAssistant).text(t.menuStyles).resized();
  const question = (d: PortDialog, step = d.currentStep): { text: string; markup?: InlineKeyboard | Keyboard } => {
    switch (step) {
      case 0:
        return { text: t.askGoal };
      case 1:
        return { text: t.askPhoto };
      case 2:
        return { text: t.askStyle };
      case 3:
        return { text: t.askEmotion };
      case 4:
        return { text: t.askPose };
      case 5:
        return { text: t.askText, markup: new InlineKeyboard().text(t.noTextButton, CB.noText) };
      default:
        return {
          text: t.summary(d),
          markup: new InlineKeyboard().text(t.confirmButton, CB.confirm).text(t.restartButton, CB.restart),
        };
    }
  };
  const ask = async (ctx: StickerBotContext, d: PortDialog) => {
    const q = question(d);
    await ctx.convo.reply(q.text, q.markup ? { reply_markup: q.markup } : undefined);
    return q.text;
  };

  /** Moves the dialog on: slots and step stored with the chat lines, then the next question. */
  const advance = async (ctx: StickerBotContext, d: PortDialog, patch: PortDialogUpdate, step: number, said: string) => {
    const preview = { ...d, ...patch, currentStep: step } as PortDialog;
    const next = question(preview);
    const updated = await ctx.convo.dialog.update(d.id, {
      ...patch,
      currentStep: step,
      appendMessages: [
        { role: "user", content: said },
        { role: "assistant", content: next.text },
      ],
    });
    await ctx.convo.reply(next.text, next.markup ? { reply_markup: next.markup } : undefined);
    return updated;
  };

  const manualMode = async (ctx: StickerBotContext, text: string) => {
    await ctx.convo.reply(text, { reply_markup: menu });
  };

  const startDialog = async (ctx: StickerBotContext) => {
    const d = await ctx.convo.dialog.start();
    const updated = await ctx.convo.dialog.update(d.id, { appendMessages: [{ role: "assistant", content: t.askGoal }] });
    await ask(ctx, updated);
  };

  /** A callback button of the dialog: answered, and refused when the dialog has ended. */
  const button = (data: string, handle: (ctx: StickerBotContext, d: PortDialog) => Promise<void>) =>
    bot.callbackQuery(data, async (ctx) => {
      const d = await ctx.convo.dialog.active();
      if (!d) {
        await ctx.answerCallbackQuery({ text: t.staleButton });
        return;
      }
      await ctx.answerCallbackQuery();
      await handle(ctx, d);
    });

  bot.command("start", async (ctx) => {
    await ctx.convo.reply(t.welcome, { reply_markup: menu }, { noise: true });
    const d = await ctx.convo.dialog.active();
    if (d) {
      await ctx.convo.reply(t.resume, undefined, { noise: true });
      await ask(ctx, d);
    }
  });

  bot.hears(t.menuAssistant, startDialog);
  bot.command("assistant", startDialog);

  // Leaving for the manual menu ends the assistant's dialog as abandoned.
  bot.hears(t.menuStyles, async (ctx) => {
    await ctx.convo.dialog.closeActive("abandoned");
    await manualMode(ctx, t.manualMenu);
  });

  button(CB.restart, async (ctx) => startDialog(ctx));

  button(CB.confirm, async (ctx, d) => {
    if (d.currentStep < 6 || !d.photoFileId) {
      await ask(ctx, d);
      return;
    }
    const confirmed = await ctx.convo.dialog.update(d.id, {
      confirmed: true,
      currentStep: 7,
      appendMessages: [{ role: "user", content: t.confirmButton }],
    });
    await ctx.convo.reply(t.generating, undefined, { noise: true });
    try {
      const { sticker } = await generator.generate({ dialog: confirmed, photoFileId: d.photoFileId, api: ctx.api });
      await ctx.replyWithSticker(sticker);
    } catch (error) {
      options.onError?.(error);
      await ctx.convo.dialog.close(d.id, "error");
      await manualMode(ctx, t.generationFailed);
      return;
    }
    await ctx.convo.dialog.close(d.id, "completed");
    await ctx.convo.reply(t.done, { reply_markup: menu });
  });

  button(CB.newPhoto, async (ctx, d) => {
    if (!d.pendingPhotoFileId) return void (await ask(ctx, d));
    const taken = await ctx.convo.dialog.resolvePendingPhoto(d.id, "take");
    await ctx.convo.reply(t.photoTaken);
    await ask(ctx, taken);
  });

  button(CB.keepPhoto, async (ctx, d) => {
    if (!d.pendingPhotoFileId) return void (await ask(ctx, d));
    const kept = await ctx.convo.dialog.resolvePendingPhoto(d.id, "keep");
    await ctx.convo.reply(t.photoKept);
    await ask(ctx, kept);
  });

  button(CB.noText, async (ctx, d) => {
    if (d.currentStep !== 5) return void (await ask(ctx, d));
    const { patch, step } = applySlots(d, { noText: true });
    await advance(ctx, d, patch, step, t.noTextButton);
  });

  bot.on("message:photo", async (ctx) => {
    const d = await ctx.convo.dialog.active();
    const photos = ctx.message.photo;
    const fileId = photos[photos.length - 1]?.file_id as string;
    if (!d) {
      await ctx.convo.reply(t.photoOutsideDialog, { reply_markup: menu });
      return;
    }
    if (d.photoFileId) {
      // The swap flow: the new photo waits in pendingPhotoFileId until the user chooses.
      await ctx.convo.dialog.setPendingPhoto(d.id, fileId);
      await ctx.convo.reply(t.photoSwap, {
        reply_markup: new InlineKeyboard().text(t.newPhotoButton, CB.newPhoto).text(t.keepPhotoButton, CB.keepPhoto),
      });
      return;
    }
    const withPhoto = { ...d, photoFileId: fileId };
    await advance(ctx, d, { photoFileId: fileId }, nextStep(withPhoto, d.stickerText !== null || d.currentStep >= 6), "[фото]");
  });

  bot.on("message:text", async (ctx) => {
    const d = await ctx.convo.dialog.active();
    if (!d) {
      // Manual mode: the model answers as a background run, streamed into the chat.
      await ctx.convo.run();
      return;
    }
    const text = ctx.message.text;
    if (d.currentStep === 1 && d.goal) {
      await ctx.convo.reply(t.photoExpected);
      return;
    }
    if (d.currentStep >= 6) {
      await ask(ctx, d);
      return;
    }
    let slots: Slots;
    try {
      slots = await extractSlots(model, d, text);
    } catch (error) {
      options.onError?.(error);
      const { fellBack } = await ctx.convo.dialog.recordModelError(d.id);
      if (fellBack) await manualMode(ctx, t.fallback);
      else await ctx.convo.reply(t.modelError);
      return;
    }
    const current = d.errorCount > 0 ? await ctx.convo.dialog.recordModelSuccess(d.id) : d;
    const { patch, step } = applySlots(current, slots);
    await advance(ctx, current, patch, step, text);
  });

  bot.catch((error) => {
    // A dialog closed under the user's feet (expiry, another device) is not a bug.
    if (convoCodeOf(error.error) === "DIALOG_CLOSED") return;
    (options.onError ?? console.error)(error.error);
  });

  return {
    bot,
    async expireDialogs() {
      const expired = await options.port.dialogs.expireIdle();
      for (const dialog of expired) {
        if (dialog.env !== env) continue;
        const telegramId = dialog.externalId?.startsWith("tg:") ? dialog.externalId.slice(3) : undefined;
        if (!telegramId || !/^\d+$/.test(telegramId)) continue;
        // Expiry is keyed by Convo, not by this process: a restarted bot still tells them.
        await bot.api.sendMessage(Number(telegramId), t.expired, { reply_markup: menu });
      }
      return expired.length;
    },
  };
}

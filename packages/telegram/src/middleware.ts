/**
 * The middleware: maps the Telegram user to a Convo user (`tg:<id>`), records the
 * update as a message of the user's current conversation (see update.ts), and gives
 * handlers `ctx.convo` — context for the model, runs streamed into the chat, the
 * user's assistant dialog and the conversation's state.
 */
import type { Context, MiddlewareFn, NextFunction } from "grammy";
import type { User as TelegramUser } from "grammy/types";
import { convoCodeOf, TelegramConvoError } from "./errors.js";
import type {
  ConvoPort,
  PortContext,
  PortConversation,
  PortDialog,
  PortDialogCloseStatus,
  PortDialogUpdate,
  PortMessage,
  PortState,
  PortUser,
  RecordInput,
} from "./port/types.js";
import { type StreamOptions, type StreamResult, streamToChat } from "./stream.js";
import { recordOf } from "./update.js";

export interface ConvoMiddlewareOptions {
  /** Convo in-process (`localPort(convo)`) or over HTTP (`httpPort({ url, apiKey })`). */
  port: ConvoPort;
  /** The deployment the conversations and dialogs belong to (default `prod`). */
  env?: string;
  /**
   * The conversation key of an update, or undefined for the user's current
   * conversation (which rolls over after 30 minutes without activity). Default: the
   * current conversation in private chats, `tg-chat:<chat id>` in groups.
   */
  conversationKey?: (ctx: Context) => string | undefined;
  /**
   * What to do with an update that was stored before (Telegram redelivers after a
   * crash or a webhook timeout): `skip` (default) stores nothing and does not call the
   * handlers again, `handle` calls them with `ctx.convo.duplicate = true`.
   */
  duplicates?: "skip" | "handle";
  /** The Convo user of a Telegram user (default `tg:<id>`). */
  externalIdOf?: (user: TelegramUser) => string;
  /** How runs are streamed into the chat. */
  stream?: StreamOptions;
}

/** The conversation's state document, with optimistic versions. */
export interface ConvoStateHandle {
  get(): Promise<PortState>;
  /** Replaces the document when `version` is current (else `STATE_VERSION_CONFLICT`). */
  replace(doc: Record<string, unknown>, version: number): Promise<PortState>;
  /** Reads, applies `change` and writes, retrying when another writer came first. */
  update(change: (doc: Record<string, unknown>) => Record<string, unknown>): Promise<PortState>;
}

/** The user's assistant dialog (the sticker bot's slot filling; docs/dialogs.md). */
export interface ConvoDialogHandle {
  /** The active dialog, or null. */
  active(): Promise<PortDialog | null>;
  /** Starts a dialog in this conversation (an active one is abandoned first: restart). */
  start(): Promise<PortDialog>;
  update(id: string, update: PortDialogUpdate): Promise<PortDialog>;
  close(id: string, status: PortDialogCloseStatus): Promise<PortDialog>;
  /** Ends the active dialog (default `abandoned`: the user left for the manual menu). */
  closeActive(status?: PortDialogCloseStatus): Promise<PortDialog | null>;
  recordModelError(id: string): Promise<{ dialog: PortDialog; fellBack: boolean }>;
  recordModelSuccess(id: string): Promise<PortDialog>;
  setPendingPhoto(id: string, fileId: string): Promise<PortDialog>;
  resolvePendingPhoto(id: string, choice: "keep" | "take"): Promise<PortDialog>;
}

/** `ctx.convo`: Convo for the user of this update. */
export interface ConvoHandle {
  /** The Convo user of the update's sender. */
  user: PortUser;
  /** The conversation this update was recorded in. */
  conversation: PortConversation;
  /** The message this update was recorded as. */
  message: PortMessage;
  /** True when the update had been recorded before (a redelivery). */
  duplicate: boolean;
  /** Context for the model: this conversation's recent messages, earlier conversations, the profile. */
  context(options?: { historyLimit?: number; sessionsLimit?: number }): Promise<PortContext>;
  /** The conversation's state document. */
  state: ConvoStateHandle;
  /** The user's assistant dialog. */
  dialog: ConvoDialogHandle;
  /** Stores a message in this conversation (an assistant line, a system note). */
  record(input: RecordInput): Promise<PortMessage>;
  /**
   * Sends `text` to the chat and stores it as the assistant's message (`noise: true`
   * for welcome texts and notices the model should not see).
   */
  reply(text: string, other?: Parameters<Context["reply"]>[1], options?: { noise?: boolean }): Promise<number>;
  /**
   * Answers this update with a run: the model answers the recorded message, and the
   * answer streams into the chat within Telegram's edit limits. A redelivered update
   * does not start a second run.
   */
  run(options?: { model?: string }): Promise<StreamResult & { runId: string }>;
}

/** Adds `ctx.convo` to a grammY context type: `Bot<Context & ConvoFlavor>`. */
export interface ConvoFlavor {
  convo: ConvoHandle;
}

/**
 * The profile a Telegram user gets in Convo.
 *
 * @example
 * profileOf(ctx.from); // { telegramId: 480637186, username: "anna", languageCode: "ru" }
 */
export function profileOf(from: TelegramUser): Record<string, unknown> {
  const profile: Record<string, unknown> = { telegramId: from.id };
  if (from.username) profile.username = from.username;
  if (from.language_code) profile.languageCode = from.language_code;
  if (from.is_premium) profile.isPremium = true;
  return profile;
}

const displayNameOf = (from: TelegramUser) => [from.first_name, from.last_name].filter(Boolean).join(" ").slice(0, 200) || null;

function stateHandle(port: ConvoPort, userId: string, conversationId: string): ConvoStateHandle {
  return {
    get: () => port.getState(userId, conversationId),
    replace: (doc, version) => port.replaceState(userId, conversationId, doc, version),
    async update(change) {
      for (let attempt = 0; ; attempt++) {
        const state = await port.getState(userId, conversationId);
        try {
          return await port.replaceState(userId, conversationId, change(state.doc), state.version);
        } catch (error) {
          if (convoCodeOf(error) !== "STATE_VERSION_CONFLICT" || attempt >= 4) throw error;
        }
      }
    },
  };
}

function dialogHandle(port: ConvoPort, userId: string, sessionId: string, env: string): ConvoDialogHandle {
  const d = port.dialogs;
  return {
    active: () => d.active(userId),
    start: () => d.create(userId, { env, sessionId }),
    update: (id, update) => d.update(userId, id, update),
    close: (id, status) => d.close(userId, id, status),
    closeActive: (status) => d.closeActive(userId, status),
    recordModelError: (id) => d.recordModelError(userId, id),
    recordModelSuccess: (id) => d.recordModelSuccess(userId, id),
    setPendingPhoto: (id, fileId) => d.setPendingPhoto(userId, id, fileId),
    resolvePendingPhoto: (id, choice) => d.resolvePendingPhoto(userId, id, choice),
  };
}

/**
 * The middleware. Updates without a sender (channel posts) pass through untouched and
 * without `ctx.convo`.
 *
 * @example
 * import { Bot, type Context } from "grammy";
 * import { type ConvoFlavor, convoMiddleware, httpPort } from "@convo/telegram";
 *
 * const bot = new Bot<Context & ConvoFlavor>(process.env.TELEGRAM_BOT_TOKEN!);
 * bot.use(convoMiddleware({ port: httpPort({ url: "http://127.0.0.1:8787" }) }));
 * bot.on("message:text", async (ctx) => {
 *   await ctx.convo.run(); // the model answers, streamed into the chat
 * });
 */
export function convoMiddleware<C extends Context>(options: ConvoMiddlewareOptions): MiddlewareFn<C & ConvoFlavor> {
  const { port } = options;
  const env = options.env ?? "prod";
  const duplicates = options.duplicates ?? "skip";
  const externalIdOf = options.externalIdOf ?? ((from: TelegramUser) => `tg:${from.id}`);
  const keyOf =
    options.conversationKey ??
    ((ctx: Context) => (ctx.chat && ctx.chat.type !== "private" ? `tg-chat:${ctx.chat.id}` : undefined));
  // Telegram id → Convo user: one lookup per user per process, not per update.
  const users = new Map<number, PortUser>();

  async function userOf(from: TelegramUser): Promise<PortUser> {
    const known = users.get(from.id);
    if (known) return known;
    const displayName = displayNameOf(from);
    const profile = profileOf(from);
    let { user, created } = await port.ensureUser({ externalId: externalIdOf(from), displayName, profile });
    // Known already (an import, the session storage, an earlier run of the bot): refresh
    // the name and the Telegram fields once per process, keeping the app's own profile fields.
    const merged = { ...user.profile, ...profile };
    if (!created && (user.displayName !== displayName || JSON.stringify(merged) !== JSON.stringify(user.profile))) {
      user = await port.updateUser(user.id, { displayName, profile: merged });
    }
    if (users.size >= 10_000) users.clear();
    users.set(from.id, user);
    return user;
  }

  return async (ctx: C & ConvoFlavor, next: NextFunction) => {
    const from = ctx.from;
    if (!from) return next();
    const user = await userOf(from);
    const { message, created, conversation } = await port.appendToCurrent(user.id, {
      ...recordOf(ctx.update),
      conversationKey: keyOf(ctx),
      env,
    });
    if (!created && duplicates === "skip") return;
    const chatId = ctx.chat?.id ?? from.id;
    const handle: ConvoHandle = {
      user,
      conversation,
      message,
      duplicate: !created,
      context: (opts = {}) => port.context(user.id, { ...opts, conversationId: message.conversationId, env }),
      state: stateHandle(port, user.id, message.conversationId),
      dialog: dialogHandle(port, user.id, message.conversationId, env),
      async record(input) {
        return (await port.append(user.id, message.conversationId, input)).message;
      },
      async reply(text, other, replyOptions = {}) {
        const sent = await ctx.api.sendMessage(chatId, text, other);
        await port.append(user.id, message.conversationId, {
          role: "assistant",
          content: text,
          noise: replyOptions.noise ?? false,
          clientMessageId: `tg-out:${chatId}:${sent.message_id}`,
        });
        return sent.message_id;
      },
      async run(runOptions = {}) {
        if (message.role !== "user") {
          throw new TelegramConvoError("BAD_CONFIG", "ctx.convo.run() answers a user message; this update is not one");
        }
        const { runId, created: started } = await port.startRun(user.id, message.conversationId, {
          messageId: message.id,
          model: runOptions.model,
        });
        if (!started) return { runId, text: "", outcome: "duplicate", messageIds: [] };
        const result = await streamToChat(ctx.api, chatId, port.followRun(user.id, runId), options.stream);
        return { ...result, runId };
      },
    };
    ctx.convo = handle;
    await next();
  };
}

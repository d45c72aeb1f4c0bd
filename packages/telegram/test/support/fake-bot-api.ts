/**
 * A fake Telegram Bot API on an ephemeral port, for real grammY bots in tests. It
 * answers `getMe`, `getUpdates` (long polling, with offsets acknowledging updates),
 * `deleteWebhook`, `sendMessage`, `editMessageText`, `answerCallbackQuery`,
 * `getFile`, `sendPhoto` and `sendSticker` the way Telegram does (`{ ok, result }`,
 * `{ ok: false, error_code, description }`), parses JSON, form and multipart bodies,
 * and records every call.
 *
 * Not imitated: rate limits (429), message formatting and entities, chats other than
 * private ones, file downloads (`/file/bot<token>/<path>`), media groups, inline mode,
 * payments, and Telegram's own redelivery (tests push an update twice instead).
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Message, Update, User } from "grammy/types";

/**
 * Parses the multipart body grammY sends when it uploads a file: fields are JSON or
 * text, a file part becomes `{ upload: <file name>, size }`.
 */
function parseMultipart(body: Buffer, type: string): Record<string, unknown> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (!boundary) throw new Error("multipart body without a boundary");
  const marker = `--${boundary[1] ?? boundary[2]}`;
  const params: Record<string, unknown> = {};
  for (const raw of body.toString("latin1").split(marker).slice(1)) {
    if (raw.startsWith("--")) break;
    const split = raw.indexOf("\r\n\r\n");
    if (split < 0) continue;
    const headers = raw.slice(0, split);
    const content = raw.slice(split + 4).replace(/\r\n$/, "");
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    if (!name) continue;
    const fileName = /filename="?([^";\r\n]*)"?/.exec(headers)?.[1];
    if (fileName !== undefined) {
      params[name] = { upload: fileName, size: Buffer.byteLength(content, "latin1") };
      continue;
    }
    const text = Buffer.from(content, "latin1").toString("utf8");
    try {
      params[name] = JSON.parse(text);
    } catch {
      params[name] = text;
    }
  }
  return params;
}

export interface Call {
  method: string;
  params: Record<string, unknown>;
}

interface Waiter {
  offset: number;
  respond: (updates: Update[]) => void;
}

/** A Telegram user of the test: pass it to the update builders. */
export interface TgUser {
  id: number;
  first_name: string;
  username?: string;
  language_code?: string;
}

const BOT: User = { id: 7_000_000_001, is_bot: true, first_name: "Sticker Assistant", username: "convo_sticker_bot" };

class TelegramError extends Error {
  constructor(
    readonly code: number,
    description: string,
  ) {
    super(description);
  }
}

export class FakeBotApi {
  readonly calls: Call[] = [];
  readonly token: string;
  #server: Server;
  #updates: Update[] = [];
  /** Every update ever pushed, for `redeliver`. */
  #all = new Map<number, Update>();
  #nextUpdateId = 100;
  #nextMessageId = 1;
  #waiters: Waiter[] = [];
  /** getUpdates offsets seen, for `processed()`. */
  #acked = 0;
  #ackWaiters: Array<{ id: number; resolve: () => void }> = [];
  /** Sent messages by id (for edits and button presses). */
  readonly messages = new Map<number, Message & { reply_markup?: unknown }>();
  readonly files = new Map<string, { file_unique_id: string; file_path: string }>();
  url = "";

  constructor(token = "123456:TEST-token") {
    this.token = token;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
  }

  static async start(token?: string): Promise<FakeBotApi> {
    const fake = new FakeBotApi(token);
    fake.#server.listen(0, "127.0.0.1");
    await once(fake.#server, "listening");
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  get botInfo() {
    return {
      ...BOT,
      is_bot: true as const,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
    };
  }

  async close(): Promise<void> {
    for (const waiter of this.#waiters.splice(0)) waiter.respond([]);
    this.#server.closeAllConnections();
    this.#server.close();
  }

  // ---- updates -------------------------------------------------------------------

  /** Queues an update for getUpdates (an id is given unless it has one); answers its id. */
  push(update: object & { update_id?: number }): number {
    const full = { ...update, update_id: update.update_id ?? this.#nextUpdateId++ } as unknown as Update;
    this.#updates.push(full);
    this.#all.set(full.update_id, full);
    this.#wake();
    return full.update_id;
  }

  /**
   * Telegram's redelivery: an update the bot handled but never confirmed (it died
   * before its next getUpdates) is answered again to the next getUpdates from offset 0.
   */
  redeliver(updateId: number): void {
    const update = this.#all.get(updateId);
    if (!update) throw new Error(`no update ${updateId}`);
    this.#updates = [update, ...this.#updates.filter((u) => u.update_id !== updateId)];
    this.#acked = Math.min(this.#acked, updateId);
    this.#wake();
  }

  /** Resolves once the bot acknowledged `updateId` (a getUpdates with a higher offset): it was handled. */
  processed(updateId: number): Promise<void> {
    if (this.#acked > updateId) return Promise.resolve();
    return new Promise((resolve) => this.#ackWaiters.push({ id: updateId, resolve }));
  }

  #wake() {
    for (const waiter of this.#waiters.splice(0)) {
      const ready = this.#updates.filter((u) => u.update_id >= waiter.offset);
      if (ready.length > 0) waiter.respond(ready);
      else this.#waiters.push(waiter);
    }
  }

  #ack(offset: number) {
    if (offset <= this.#acked) return;
    this.#acked = offset;
    this.#updates = this.#updates.filter((u) => u.update_id >= offset);
    for (const waiter of [...this.#ackWaiters]) {
      if (waiter.id < offset) {
        this.#ackWaiters.splice(this.#ackWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  // ---- builders ------------------------------------------------------------------

  #chat(user: TgUser) {
    return { id: user.id, type: "private" as const, first_name: user.first_name, username: user.username };
  }

  #from(user: TgUser): User {
    return {
      id: user.id,
      is_bot: false,
      first_name: user.first_name,
      username: user.username,
      language_code: user.language_code ?? "ru",
    };
  }

  #incoming(user: TgUser, fields: Record<string, unknown>): Message {
    const message = {
      message_id: this.#nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: this.#chat(user),
      from: this.#from(user),
      ...fields,
    } as unknown as Message;
    return message;
  }

  /** The user sends text (`/start` becomes a bot command). */
  text(user: TgUser, text: string) {
    const entities = text.startsWith("/") ? [{ type: "bot_command", offset: 0, length: text.split(" ")[0]!.length }] : undefined;
    return { message: this.#incoming(user, { text, entities }) };
  }

  /** The user sends a photo (three sizes, as Telegram does); the file is known to getFile. */
  photo(user: TgUser, fileId: string, caption?: string) {
    this.files.set(fileId, { file_unique_id: `u-${fileId}`, file_path: `photos/${fileId}.jpg` });
    const sizes = [90, 320, 1280].map((w, i) => ({
      file_id: i === 2 ? fileId : `${fileId}-s${i}`,
      file_unique_id: `u-${fileId}-${i}`,
      width: w,
      height: w,
      file_size: w * 100,
    }));
    return { message: this.#incoming(user, { photo: sizes, caption }) };
  }

  sticker(user: TgUser, fileId: string, emoji = "😀") {
    return {
      message: this.#incoming(user, {
        sticker: {
          file_id: fileId,
          file_unique_id: `u-${fileId}`,
          type: "regular",
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
          emoji,
        },
      }),
    };
  }

  document(user: TgUser, fileId: string, fileName: string) {
    return {
      message: this.#incoming(user, {
        document: { file_id: fileId, file_unique_id: `u-${fileId}`, file_name: fileName, mime_type: "application/pdf" },
      }),
    };
  }

  /** The user edits an earlier message of theirs. */
  edit(user: TgUser, messageId: number, text: string) {
    return {
      edited_message: { ...this.#incoming(user, { text, edit_date: Math.floor(Date.now() / 1000) }), message_id: messageId },
    };
  }

  /** A service message: the user pinned something. */
  pinned(user: TgUser) {
    return { message: this.#incoming(user, { pinned_message: { message_id: 1, date: 0, chat: this.#chat(user) } }) };
  }

  /** The user presses the inline button with `data` on the bot's latest message that has it. */
  press(user: TgUser, data: string) {
    const message = [...this.messages.values()]
      .reverse()
      .find((m) => m.chat.id === user.id && JSON.stringify(m.reply_markup ?? null).includes(`"callback_data":"${data}"`));
    if (!message) throw new Error(`no message to ${user.id} has a button ${data}`);
    return {
      callback_query: {
        id: `cq-${this.#nextUpdateId}`,
        from: this.#from(user),
        chat_instance: `ci-${user.id}`,
        message,
        data,
      },
    };
  }

  // ---- what the bot did ----------------------------------------------------------

  /** Calls of `method` (all calls without one). */
  called(method?: string): Call[] {
    return method ? this.calls.filter((c) => c.method === method) : this.calls;
  }

  /** Texts the bot sent to a chat, in order (sendMessage, final text after edits). */
  textsTo(chatId: number): string[] {
    return [...this.messages.values()].filter((m) => m.chat.id === chatId && m.text !== undefined).map((m) => m.text as string);
  }

  lastTextTo(chatId: number): string | undefined {
    return this.textsTo(chatId).at(-1);
  }

  // ---- the HTTP side -------------------------------------------------------------

  async #params(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const type = req.headers["content-type"] ?? "";
    if (body.length === 0) return {};
    if (type.includes("application/json")) return JSON.parse(body.toString("utf8"));
    if (type.includes("multipart/form-data")) return parseMultipart(body, type);
    return Object.fromEntries(new URLSearchParams(body.toString("utf8")));
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url ?? "/", "http://fake").pathname);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (!match) return send(404, { ok: false, error_code: 404, description: "Not Found" });
    if (match[1] !== this.token) return send(401, { ok: false, error_code: 401, description: "Unauthorized" });
    const method = match[2] as string;
    const params = await this.#params(req);
    this.calls.push({ method, params });
    try {
      const result = await this.#answer(method, params, req);
      send(200, { ok: true, result });
    } catch (error) {
      if (!(error instanceof TelegramError)) throw error;
      send(error.code, { ok: false, error_code: error.code, description: error.message });
    }
  }

  #outgoing(chatId: unknown, fields: Record<string, unknown>): Message {
    const id = Number(chatId);
    const message = {
      message_id: this.#nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: { id, type: "private" as const, first_name: "user" },
      from: BOT,
      ...fields,
    } as unknown as Message;
    this.messages.set(message.message_id, message);
    return message;
  }

  async #answer(method: string, p: Record<string, unknown>, req: IncomingMessage): Promise<unknown> {
    switch (method) {
      case "getMe":
        return this.botInfo;
      case "deleteWebhook":
      case "setWebhook":
        return true;
      case "getUpdates": {
        const offset = Number(p.offset ?? 0);
        this.#ack(offset);
        const ready = this.#updates.filter((u) => u.update_id >= offset);
        const limit = Number(p.limit ?? 100);
        if (ready.length > 0 || Number(p.timeout ?? 0) === 0) return ready.slice(0, limit);
        // Long polling: hold the request until an update arrives, the timeout passes or the client leaves.
        return new Promise<Update[]>((resolve) => {
          const waiter: Waiter = {
            offset,
            respond: (updates) => {
              clearTimeout(timer);
              resolve(updates.slice(0, limit));
            },
          };
          const timer = setTimeout(() => {
            this.#waiters = this.#waiters.filter((w) => w !== waiter);
            resolve([]);
          }, Number(p.timeout) * 1000);
          req.once("close", () => {
            clearTimeout(timer);
            this.#waiters = this.#waiters.filter((w) => w !== waiter);
          });
          this.#waiters.push(waiter);
        });
      }
      case "sendMessage": {
        if (typeof p.text !== "string" || p.text === "") throw new TelegramError(400, "Bad Request: message text is empty");
        if (p.text.length > 4096) throw new TelegramError(400, "Bad Request: message is too long");
        return this.#outgoing(p.chat_id, { text: p.text, reply_markup: p.reply_markup });
      }
      case "editMessageText": {
        const message = this.messages.get(Number(p.message_id));
        if (!message || message.chat.id !== Number(p.chat_id))
          throw new TelegramError(400, "Bad Request: message to edit not found");
        if (typeof p.text !== "string" || p.text.length > 4096) throw new TelegramError(400, "Bad Request: MESSAGE_TOO_LONG");
        if (message.text === p.text) {
          throw new TelegramError(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
          );
        }
        const edited = { ...message, text: p.text, edit_date: Math.floor(Date.now() / 1000) };
        this.messages.set(message.message_id, edited);
        return edited;
      }
      case "answerCallbackQuery":
        return true;
      case "getFile": {
        const file = this.files.get(String(p.file_id));
        if (!file) throw new TelegramError(400, "Bad Request: invalid file_id");
        return { file_id: p.file_id, ...file, file_size: 12_345 };
      }
      case "sendPhoto":
        return this.#outgoing(p.chat_id, {
          photo: [{ file_id: `photo-out-${this.#nextMessageId}`, file_unique_id: "x", width: 1, height: 1 }],
        });
      case "sendSticker":
        return this.#outgoing(p.chat_id, {
          sticker: {
            file_id: `sticker-out-${this.#nextMessageId}`,
            file_unique_id: "s",
            type: "regular",
            width: 512,
            height: 512,
            is_animated: false,
            is_video: false,
          },
        });
      default:
        throw new TelegramError(404, "Not Found: method not found");
    }
  }
}

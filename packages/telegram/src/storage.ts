/**
 * A grammY session `StorageAdapter` on Convo's conversation state: an existing grammY
 * bot keeps its sessions in Convo (PGlite or PostgreSQL) instead of a separate store.
 *
 * The session of key K lives in the state document (`{ session: … }`) of the
 * conversation keyed `grammy-session:K` (env `grammy-sessions`), owned by the Convo user of K (`tg:<id>` for a
 * private chat's key, the same user the middleware maps the Telegram user to;
 * `tg-chat:<key>` for any other key, e.g. a group). Writes use the state's optimistic
 * version; a write that lost a race re-reads and writes again (last write wins, as with
 * grammY's other adapters).
 *
 * Lifetime: that conversation is closed by Convo's inactivity sweep like any other
 * (its state stays readable), and deleted with its state after the retention (90 days
 * after closing by default): a session untouched that long starts empty again.
 */
import type { StorageAdapter } from "grammy";
import { convoCodeOf } from "./errors.js";
import type { ConvoPort } from "./port/types.js";

export interface ConvoStorageOptions {
  port: ConvoPort;
  /**
   * The env of the session conversations (default `grammy-sessions`): an env of their
   * own, so a session conversation is never the user's current conversation and never
   * shows in the user's list of conversations of the bot's env.
   */
  env?: string;
  /** The Convo user (external id) a session key belongs to; default `tg:<key>` for digits, else `tg-chat:<key>`. */
  ownerOf?: (key: string) => string;
}

/**
 * The default owner of a session key.
 *
 * @example
 * defaultSessionOwner("480637186"); // "tg:480637186"
 * defaultSessionOwner("-1001234"); // "tg-chat:-1001234" (a group)
 */
export const defaultSessionOwner = (key: string) => (/^\d+$/.test(key) ? `tg:${key}` : `tg-chat:${key}`);

/**
 * The storage adapter.
 *
 * @example
 * import { Bot, session } from "grammy";
 * import { convoStorage, localPort } from "@convo/telegram";
 *
 * bot.use(session({ initial: () => ({ count: 0 }), storage: convoStorage({ port: localPort(convo) }) }));
 */
export function convoStorage<T>(options: ConvoStorageOptions): StorageAdapter<T> {
  const { port } = options;
  const env = options.env ?? "grammy-sessions";
  const ownerOf = options.ownerOf ?? defaultSessionOwner;
  // key → where its session lives; a key's conversation never changes, so it is cached.
  const places = new Map<string, { userId: string; conversationId: string }>();

  async function place(key: string) {
    const known = places.get(key);
    if (known) return known;
    const { user } = await port.ensureUser({ externalId: ownerOf(key) });
    const conversation = await port.openConversation(user.id, `grammy-session:${key}`, env);
    const found = { userId: user.id, conversationId: conversation.id };
    if (places.size >= 10_000) places.clear();
    places.set(key, found);
    return found;
  }

  async function write(key: string, change: (doc: Record<string, unknown>) => Record<string, unknown>) {
    const { userId, conversationId } = await place(key);
    for (let attempt = 0; ; attempt++) {
      const state = await port.getState(userId, conversationId);
      try {
        await port.replaceState(userId, conversationId, change(state.doc), state.version);
        return;
      } catch (error) {
        if (convoCodeOf(error) !== "STATE_VERSION_CONFLICT" || attempt >= 4) throw error;
      }
    }
  }

  return {
    async read(key) {
      const { userId, conversationId } = await place(key);
      const { doc } = await port.getState(userId, conversationId);
      return doc.session === undefined ? undefined : (doc.session as T);
    },
    write: (key, value) => write(key, (doc) => ({ ...doc, session: value as unknown })),
    delete: (key) =>
      write(key, (doc) => {
        const { session: _dropped, ...rest } = doc;
        return rest;
      }),
  };
}

/** Use cases for conversations: create, read, list, rename, close, delete. */
import { LIMITS } from "@convo/protocol";
import type { LifecycleConfig } from "../config.js";
import { decodeCursor, keysetPage } from "../cursor.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { toMessage } from "../messages/index.js";
import type { Store, UnitOfWork } from "../store.js";
import { assertEnv, assertText, assertTitle, assertUuid, intInRange } from "../validation.js";
import {
  type CloseReason,
  type Conversation,
  type ConversationDetail,
  type ConversationList,
  type CreateConversationInput,
  type ListConversationsOptions,
  toConversation,
} from "./types.js";

const CLOSE_REASONS = new Set<CloseReason>(["user", "inactivity", "app"]);
/** Messages included in a conversation detail; longer conversations are paged. */
export const DETAIL_MESSAGE_LIMIT = 500;

/**
 * Conversations (`convo.conversations`): explicit control over a user's chats —
 * open one, list, rename, close, delete. A bot that only appends messages lets
 * `convo.messages.appendToCurrent` open and reuse conversations instead.
 *
 * @example
 * const conversation = await convo.conversations.create(userId, { title: "Стикеры", closeCurrent: true });
 * const { items, nextCursor } = await convo.conversations.list(userId, { status: "active", limit: 20 });
 * await convo.conversations.close(userId, conversation.id);
 */
export class ConversationsService {
  /** Called after a close commits (Convo writes the summary then). */
  onClosed: ((userId: string, conversationId: string) => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly lifecycle: LifecycleConfig,
  ) {}

  /** The instant after which activity makes a conversation active. */
  activeSince(now: Date): Date {
    return new Date(now.getTime() - this.lifecycle.inactivityMs);
  }

  /** Answers the conversation or throws NotFoundError — also when it is another user's. */
  async require(uow: UnitOfWork, userId: string, id: string) {
    const row = await uow.conversations.find(userId, id);
    if (!row) throw new NotFoundError("conversation", id);
    return row;
  }

  /**
   * The owner of a conversation, for admin requests that name no user. Answers
   * NotFoundError for an unknown id.
   */
  async ownerOf(id: string): Promise<string> {
    const cid = assertUuid("conversationId", id);
    return this.store.statement(async (uow) => {
      const owner = await uow.conversations.ownerOf(cid);
      if (!owner) throw new NotFoundError("conversation", cid);
      return owner;
    });
  }

  /** Opens a conversation (closing the open ones first with `closeCurrent`); NotFoundError for an unknown user. */
  async create(userId: string, input: CreateConversationInput = {}): Promise<Conversation> {
    const uid = assertUuid("userId", userId);
    const title = input.title === undefined ? undefined : assertTitle(input.title);
    const env = input.env === undefined ? "prod" : assertEnv(input.env);
    const externalId =
      input.externalId === undefined ? undefined : assertText("externalId", input.externalId, { max: LIMITS.idLength });
    return this.store.transaction(async (uow) => {
      if (!(await uow.users.lock(uid))) throw new NotFoundError("user", uid);
      if (input.closeCurrent) await uow.conversations.closeOpen(uid, env, "user", uow.now);
      const row = await uow.conversations.insert({ userId: uid, title, titleSource: "user", env, externalId, now: uow.now });
      return toConversation(row, this.activeSince(uow.now));
    });
  }

  /**
   * The user's conversation keyed `externalId`, created on first use (`INSERT … ON
   * CONFLICT DO NOTHING`): a client that names its own keys (a Telegram chat, a grammY
   * session) gets the same conversation on every call.
   *
   * @example
   * const { conversation } = await convo.conversations.openByKey(user.id, "grammy-session:480637186");
   */
  async openByKey(
    userId: string,
    externalId: string,
    options: { env?: string } = {},
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const uid = assertUuid("userId", userId);
    const key = assertText("externalId", externalId, { max: 200 });
    const env = options.env === undefined ? "prod" : assertEnv(options.env);
    return this.store.transaction(async (uow) => {
      if (!(await uow.users.lock(uid))) throw new NotFoundError("user", uid);
      const { row, created } = await uow.conversations.insertOrGetByExternalId({
        userId: uid,
        externalId: key,
        env,
        now: uow.now,
      });
      return { conversation: toConversation(row, this.activeSince(uow.now)), created };
    });
  }

  /** The conversation with its first 500 messages (page further with `messages.page`). */
  async get(userId: string, id: string): Promise<ConversationDetail> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", id);
    return this.store.read(async (uow) => {
      const row = await this.require(uow, uid, cid);
      const rows = await uow.messages.page(uid, cid, 0, DETAIL_MESSAGE_LIMIT);
      return {
        ...toConversation(row, this.activeSince(uow.now)),
        messages: rows.slice(0, DETAIL_MESSAGE_LIMIT).map(toMessage),
        hasMoreMessages: rows.length > DETAIL_MESSAGE_LIMIT,
      };
    });
  }

  /** The conversation record without messages. */
  async summary(userId: string, id: string): Promise<Conversation> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", id);
    return this.store.statement(async (uow) => toConversation(await this.require(uow, uid, cid), this.activeSince(uow.now)));
  }

  /**
   * A page of the user's conversations, newest activity first, with the total and a
   * keyset cursor. Neither the page nor the total grows in cost with the history.
   */
  async list(userId: string, options: ListConversationsOptions = {}): Promise<ConversationList> {
    const uid = assertUuid("userId", userId);
    const limit = intInRange("limit", options.limit, 1, 100, 20);
    if (options.status !== undefined && options.status !== "active" && options.status !== "closed") {
      throw new ValidationError("status must be 'active' or 'closed'", { field: "status" });
    }
    const env = options.env === undefined ? undefined : assertEnv(options.env);
    const scope = `conversations:${uid}:${options.status ?? ""}:${env ?? ""}`;
    const after = options.cursor === undefined ? undefined : decodeCursor(scope, options.cursor, this.store.cursorSecret);
    return this.store.read(async (uow) => {
      const filter = { env, status: options.status, activeSince: this.activeSince(uow.now) };
      // Without a status filter (the common list) page and total come in one statement.
      const { rows, total } =
        filter.status === undefined
          ? await uow.conversations.pageWithTotal(uid, env, limit, after)
          : {
              rows: await uow.conversations.page(uid, filter, limit, after),
              total: await uow.conversations.total(uid, filter),
            };
      const conversations = rows.map((row) => toConversation(row, filter.activeSince));
      return { ...keysetPage(conversations, limit, scope, this.store.cursorSecret, (c) => c.updatedAt), total };
    });
  }

  /** Renames the conversation; automatic titles never overwrite this one afterwards. */
  async rename(userId: string, id: string, title: string): Promise<Conversation> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", id);
    const checked = assertTitle(title);
    return this.store.statement(async (uow) => {
      const row = await uow.conversations.rename(uid, cid, checked);
      if (!row) throw new NotFoundError("conversation", cid);
      return toConversation(row, this.activeSince(uow.now));
    });
  }

  /** Closes the conversation (idempotent: closing a closed one changes nothing). */
  async close(userId: string, id: string, reason: CloseReason = "user"): Promise<Conversation> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", id);
    if (!CLOSE_REASONS.has(reason)) {
      throw new ValidationError("reason must be 'user', 'inactivity' or 'app'", { field: "reason" });
    }
    return this.store.statement(async (uow) => {
      const row = await uow.conversations.close(uid, cid, reason, uow.now);
      if (!row) throw new NotFoundError("conversation", cid);
      const onClosed = this.onClosed;
      if (onClosed) uow.afterCommit(() => onClosed(uid, cid));
      return toConversation(row, this.activeSince(uow.now));
    });
  }

  /** Deletes the conversation with its messages, state and runs. */
  async delete(userId: string, id: string): Promise<void> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", id);
    await this.store.transaction(async (uow) => {
      const row = await uow.conversations.delete(uid, cid);
      if (!row) throw new NotFoundError("conversation", cid);
    });
  }

  /** Stores a summary the context loader hands to later conversations. */
  async setSummary(userId: string, id: string, summary: string | null): Promise<void> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", id);
    const text = summary === null ? null : assertText("summary", summary, { max: 10_000 });
    await this.store.statement(async (uow) => {
      if (!(await uow.conversations.setSummary(uid, cid, text))) throw new NotFoundError("conversation", cid);
    });
  }

  /**
   * Sets a title produced by a model. Answers false when a person had already renamed
   * the conversation (their title stays).
   */
  async setModelTitle(userId: string, id: string, title: string): Promise<boolean> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", id);
    const checked = assertTitle(title);
    return this.store.transaction(async (uow) => {
      await this.require(uow, uid, cid);
      return uow.conversations.setAutoTitle(uid, cid, checked, "model");
    });
  }
}

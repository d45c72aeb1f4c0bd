/** Use cases for messages: append, append to the current conversation, page. */
import { LIMITS, ROLES as PROTOCOL_ROLES } from "@convo/protocol";
import type { LifecycleConfig } from "../config.js";
import { type ConversationRow, heuristicTitle, toConversation } from "../conversations/index.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Store, UnitOfWork } from "../store.js";
import { assertEnv, assertJson, assertText, assertUuid, intInRange } from "../validation.js";
import {
  type AppendResult,
  type AppendToCurrentInput,
  type AppendToCurrentResult,
  type Message,
  type MessageInput,
  type MessageRow,
  type NewMessage,
  toMessage,
} from "./types.js";

/** An append with the conversation row as the append left it (when it stored one). */
interface AppendInResult extends AppendResult {
  conversationRow?: ConversationRow;
}

const ROLES = new Set<string>(PROTOCOL_ROLES);

/** Checks a message input; answers it normalised. */
export function checkMessage(input: MessageInput): MessageInput {
  if (input === null || typeof input !== "object") throw new ValidationError("message must be an object", { field: "body" });
  if (!ROLES.has(input.role)) {
    throw new ValidationError(`role must be one of ${PROTOCOL_ROLES.join(", ")}`, { field: "role" });
  }
  const content = assertText("content", input.content, { allowEmpty: input.role !== "user" });
  if (input.parts != null && !Array.isArray(input.parts)) {
    throw new ValidationError("parts must be an array", { field: "parts" });
  }
  if (input.noise !== undefined && typeof input.noise !== "boolean") {
    throw new ValidationError("noise must be a boolean", { field: "noise" });
  }
  return {
    role: input.role,
    content,
    parts: input.parts == null ? null : assertJson("parts", input.parts),
    noise: input.noise ?? false,
    clientMessageId:
      input.clientMessageId === undefined
        ? undefined
        : assertText("clientMessageId", input.clientMessageId, { max: LIMITS.idLength }),
    runId: input.runId === undefined ? undefined : assertUuid("runId", input.runId),
  };
}

/**
 * Told of every stored message once its unit of work has committed, so live followers
 * of the conversation (on any node) see it. `convo.ts` wires it to the run feed.
 */
export type MessageAnnouncer = (message: Message) => void;

/**
 * Messages (`convo.messages`): the conversation's history, appended gap-free and read
 * back in order. `appendToCurrent` is the usual entry for a bot: it finds or opens the
 * conversation itself.
 *
 * @example
 * const { message, conversation } = await convo.messages.appendToCurrent(userId, { role: "user", content: "Привет!" });
 * await convo.messages.append(userId, conversation.id, { role: "assistant", content: "Здравствуйте! Чем помочь?" });
 * const recent = await convo.messages.last(userId, conversation.id, { limit: 20 });
 */
export class MessagesService {
  constructor(
    private readonly store: Store,
    private readonly lifecycle: LifecycleConfig,
    private readonly announce: MessageAnnouncer = () => {},
  ) {}

  /** Checks and normalises a message input (throws a ValidationError naming the field). */
  check(input: MessageInput): MessageInput {
    return checkMessage(input);
  }

  #activeSince(now: Date): Date {
    return new Date(now.getTime() - this.lifecycle.inactivityMs);
  }

  /** The stored message for a repeated clientMessageId, checked to be for this conversation. */
  async #replay(uow: UnitOfWork, userId: string, clientMessageId: string, conversationId?: string) {
    const existing = await uow.messages.findByClientId(userId, clientMessageId);
    if (existing && conversationId && existing.conversationId !== conversationId) {
      throw new ConflictError(
        "CLIENT_MESSAGE_ID_REUSED",
        "clientMessageId was already used for a message in another conversation",
        { field: "clientMessageId", conversationId: existing.conversationId },
      );
    }
    return existing;
  }

  /**
   * Appends a message to a conversation: one statement, `seq` gap-free under
   * concurrent writers, the conversation's count and activity updated with it, and the
   * first user message giving an untitled conversation its heuristic title.
   */
  async append(userId: string, conversationId: string, input: MessageInput): Promise<AppendResult> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const msg = checkMessage(input);
    return this.store.statement(async (uow) => {
      const { message, created } = await this.appendIn(uow, uid, cid, msg);
      return { message, created };
    });
  }

  /** Appends inside the caller's unit of work (input already checked); announced after that unit commits. */
  async appendIn(
    uow: UnitOfWork,
    userId: string,
    conversationId: string,
    msg: MessageInput,
    options: { withConversation?: boolean; id?: string } = {},
  ): Promise<AppendInResult> {
    const appended = await uow.messages.append(this.newMessage(uow, userId, conversationId, msg, options.id), options);
    if (appended) {
      return { message: this.appended(uow, appended.message), created: true, conversationRow: appended.conversation };
    }
    // Nothing inserted: a repeated clientMessageId, or no open conversation.
    if (msg.clientMessageId) {
      const existing = await this.#replay(uow, userId, msg.clientMessageId, conversationId);
      if (existing) return { message: toMessage(existing), created: false };
    }
    await this.assertOpen(uow, userId, conversationId);
    // Open after all: it was closed and deleted between the two reads, or a bug.
    throw new ConflictError("CONVERSATION_CLOSED", "The conversation is closed; start a new one", { conversationId });
  }

  /**
   * The row to store for checked input `msg` at `uow.now` (a user message may title
   * the conversation), for a statement that appends it together with more (a run start).
   */
  newMessage(uow: UnitOfWork, userId: string, conversationId: string, msg: MessageInput, id?: string): NewMessage {
    return {
      userId,
      conversationId,
      ...msg,
      id,
      autoTitle: msg.role === "user" ? heuristicTitle(msg.content) : null,
      now: uow.now,
    };
  }

  /** A message `uow` stored: announced once that unit commits (a rollback announces nothing). */
  appended(uow: UnitOfWork, row: MessageRow): Message {
    const message = toMessage(row);
    uow.afterCommit(() => this.announce(message));
    return message;
  }

  /** Throws NotFoundError when the conversation is not the user's, ConflictError `CONVERSATION_CLOSED` when it is closed. */
  async assertOpen(uow: UnitOfWork, userId: string, conversationId: string): Promise<void> {
    const conversation = await uow.conversations.find(userId, conversationId);
    if (!conversation) throw new NotFoundError("conversation", conversationId);
    if (conversation.closedAt) {
      throw new ConflictError("CONVERSATION_CLOSED", "The conversation is closed; start a new one", {
        conversationId,
        closedAt: conversation.closedAt.toISOString(),
      });
    }
  }

  /**
   * "This user said X": appends to the user's active conversation in `env`, or opens a
   * new one when the last is closed or idle past the threshold (closing the idle one);
   * or, with `externalId`, to the conversation with that key, created on first use.
   * One transaction; the user's row is locked so two first messages cannot open two
   * conversations.
   */
  async appendToCurrent(userId: string, input: AppendToCurrentInput): Promise<AppendToCurrentResult> {
    const uid = assertUuid("userId", userId);
    const msg = checkMessage(input);
    const env = input.env === undefined ? "prod" : assertEnv(input.env);
    const externalId =
      input.externalId === undefined ? undefined : assertText("externalId", input.externalId, { max: LIMITS.idLength });
    return this.store.transaction(async (uow) => {
      if (!(await uow.users.lock(uid))) throw new NotFoundError("user", uid);
      if (msg.clientMessageId) {
        const existing = await this.#replay(uow, uid, msg.clientMessageId);
        if (existing) {
          const conversation = await uow.conversations.find(uid, existing.conversationId);
          return {
            message: toMessage(existing),
            created: false,
            conversation: toConversation(conversation!, this.#activeSince(uow.now)),
            conversationCreated: false,
          };
        }
      }
      const activeSince = this.#activeSince(uow.now);
      let conversationCreated = false;
      let conversationId: string;
      if (externalId !== undefined) {
        const { row, created } = await uow.conversations.insertOrGetByExternalId({ userId: uid, externalId, env, now: uow.now });
        conversationId = row.id;
        conversationCreated = created;
      } else {
        const active = await uow.conversations.findActive(uid, env, activeSince, { forUpdate: true });
        if (active) {
          conversationId = active.id;
        } else {
          // Idle conversations are closed now rather than waiting for the sweep, so the
          // user never has two open conversations in one env through this path.
          await uow.conversations.closeOpen(uid, env, "inactivity", uow.now, activeSince);
          conversationId = (await uow.conversations.insert({ userId: uid, env, now: uow.now })).id;
          conversationCreated = true;
        }
      }
      const { message, created, conversationRow } = await this.appendIn(uow, uid, conversationId, msg, {
        withConversation: true,
      });
      // The append answers the updated conversation; only a replayed message needs a read.
      const conversation = conversationRow ?? (await uow.conversations.find(uid, conversationId));
      return {
        message,
        created,
        conversation: toConversation(conversation!, activeSince),
        conversationCreated,
      };
    });
  }

  /**
   * The last `limit` messages (1–500, default 20), oldest first — what a model or a chat
   * window shows first. One statement; noise included unless `withoutNoise`.
   */
  async last(
    userId: string,
    conversationId: string,
    options: { limit?: number; withoutNoise?: boolean } = {},
  ): Promise<Message[]> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const limit = intInRange("limit", options.limit, 1, 500, 20);
    return this.store.statement(async (uow) => {
      const rows = await uow.messages.last(uid, cid, limit, { withoutNoise: options.withoutNoise });
      if (rows.length === 0 && !(await uow.conversations.find(uid, cid))) throw new NotFoundError("conversation", cid);
      return rows.map(toMessage);
    });
  }

  /** Messages after `afterSeq` (default 0), oldest first, `limit` 1–500 (default 100). */
  async page(
    userId: string,
    conversationId: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<{ items: Message[]; hasMore: boolean; nextAfterSeq: number | null }> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const afterSeq = intInRange("afterSeq", options.afterSeq, 0, 2 ** 31 - 1, 0);
    const limit = intInRange("limit", options.limit, 1, 500, 100);
    return this.store.read(async (uow) => {
      const rows = await uow.messages.page(uid, cid, afterSeq, limit);
      if (rows.length === 0 && !(await uow.conversations.find(uid, cid))) throw new NotFoundError("conversation", cid);
      const items = rows.slice(0, limit).map(toMessage);
      const hasMore = rows.length > limit;
      return { items, hasMore, nextAfterSeq: hasMore ? (items[items.length - 1]?.seq ?? null) : null };
    });
  }
}

/**
 * The conversation's state document (DESIGN.md §1.5): short-term memory for the
 * assistant, read and written whole or patched (RFC 7396 JSON merge), with optimistic
 * concurrency on `version` — a write naming a stale version changes nothing.
 */

import type { ConversationsService } from "../conversations/index.js";
import { ConflictError, ValidationError } from "../errors.js";
import type { Store, UnitOfWork } from "../store.js";
import { assertJson, assertUuid } from "../validation.js";
import type { ConversationState } from "./types.js";

/** Largest state document accepted, as JSON text. */
export const MAX_STATE_BYTES = 64 * 1024;

function checkDoc(field: string, doc: unknown): Record<string, unknown> {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ValidationError(`${field} must be a JSON object`, { field });
  }
  assertJson(field, doc);
  return doc as Record<string, unknown>;
}

/**
 * RFC 7396 JSON merge patch: objects merge, `null` deletes, anything else replaces.
 * What `convo.state.patch` applies; pure, the inputs are not changed.
 *
 * @example
 * mergePatch({ step: 2, slots: { style: "anime", pose: "wave" } }, { step: 3, slots: { pose: null } });
 * // { step: 3, slots: { style: "anime" } }
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Conversation state (`convo.state`): one JSON document per conversation, versioned.
 * Read it, change it naming the version you read, and on STATE_VERSION_CONFLICT read
 * again and retry.
 *
 * @example
 * const state = await convo.state.get(userId, conversationId);
 * await convo.state.patch(userId, conversationId, { step: 2, slots: { style: "anime" } }, state.version);
 */
export class StateService {
  constructor(
    private readonly store: Store,
    private readonly conversations: ConversationsService,
  ) {}

  /** The state document and its version (version 0 and `{}` before the first write); NotFoundError for an unknown conversation. */
  async get(userId: string, conversationId: string): Promise<ConversationState> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    return this.store.read((uow) => this.#read(uow, uid, cid));
  }

  async #read(uow: UnitOfWork, userId: string, conversationId: string): Promise<ConversationState> {
    const row = await uow.states.find(userId, conversationId);
    if (!row) await this.conversations.require(uow, userId, conversationId);
    return { conversationId, version: row?.version ?? 0, doc: row?.doc ?? {}, updatedAt: row?.updatedAt ?? null };
  }

  /** Replaces the document when `expectedVersion` is current; otherwise STATE_VERSION_CONFLICT (409). */
  async replace(userId: string, conversationId: string, doc: unknown, expectedVersion: number): Promise<ConversationState> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const checked = checkDoc("state", doc);
    return this.store.transaction((uow) => this.#write(uow, uid, cid, checked, expectedVersion));
  }

  /** Applies a JSON merge patch when `expectedVersion` is current; otherwise STATE_VERSION_CONFLICT (409). */
  async patch(userId: string, conversationId: string, patch: unknown, expectedVersion: number): Promise<ConversationState> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const checked = checkDoc("patch", patch);
    return this.store.transaction(async (uow) => {
      const current = await this.#read(uow, uid, cid);
      this.#checkVersion(current.version, expectedVersion);
      const merged = mergePatch(current.doc, checked) as Record<string, unknown>;
      return this.#write(uow, uid, cid, merged, expectedVersion);
    });
  }

  #checkVersion(current: number, expected: number) {
    if (current !== expected) {
      throw new ConflictError("STATE_VERSION_CONFLICT", `The state is at version ${current}, not ${expected}`, {
        currentVersion: current,
        expectedVersion: expected,
      });
    }
  }

  async #write(
    uow: UnitOfWork,
    userId: string,
    conversationId: string,
    doc: Record<string, unknown>,
    expectedVersion: number,
  ): Promise<ConversationState> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError("version must be a non-negative integer", { field: "version" });
    }
    if (Buffer.byteLength(JSON.stringify(doc)) > MAX_STATE_BYTES) {
      throw new ValidationError(`state is larger than ${MAX_STATE_BYTES} bytes`, { field: "state", max: MAX_STATE_BYTES });
    }
    await this.conversations.require(uow, userId, conversationId);
    const row = await uow.states.write(userId, conversationId, doc, expectedVersion, uow.now);
    if (!row) {
      const current = await uow.states.find(userId, conversationId);
      this.#checkVersion(current?.version ?? 0, expectedVersion);
      throw new Error("state write lost without a version change");
    }
    return { conversationId, version: row.version, doc: row.doc, updatedAt: row.updatedAt };
  }
}

/**
 * Use cases for assistant dialogs (DESIGN.md §1.7): the sticker bot's guided
 * slot-filling conversation. A user has any number of dialogs over time and at most
 * one active. Only an active dialog changes: every write is a conditional UPDATE, and
 * one that finds the dialog closed changes nothing and answers DIALOG_CLOSED (409).
 */

import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Store, UnitOfWork } from "../store.js";
import { assertEnv, assertText, assertUuid } from "../validation.js";
import { type AssistantSessionRow, DIALOG_MAX_ERRORS, type Dialog, type DialogCloseStatus, toDialog } from "./types.js";
import { checkCloseStatus, checkDialogUpdate, type DialogUpdate, MAX_FILE_ID_LENGTH } from "./validation.js";

export interface CreateDialogInput {
  /** Deployment the dialog runs in (default `prod`). */
  env?: string;
  /** The user's conversation the dialog belongs to. */
  sessionId?: string | null;
}

/** The answer to a recorded model error. */
export interface ModelErrorResult {
  dialog: Dialog;
  /**
   * True when this error was the third in a row: the dialog is now closed as `error`
   * and the bot should fall back to manual mode.
   */
  fellBack: boolean;
}

const RESOURCE = "assistant session";

/**
 * Assistant dialogs (`convo.dialogs`): the sticker bot's guided slot-filling flow,
 * one active dialog per user, every write refused with DIALOG_CLOSED once it ended.
 *
 * @example
 * const dialog = await convo.dialogs.create(userId, { sessionId: conversationId });
 * await convo.dialogs.update(userId, dialog.id, { goal: "стикер с котом", currentStep: 1 });
 * await convo.dialogs.close(userId, dialog.id, "completed");
 */
export class AssistantSessionsService {
  constructor(private readonly store: Store) {}

  /**
   * Explains why a conditional write changed nothing: the dialog is missing (or
   * another user's), closed, or (photo swap) has no pending photo.
   */
  async #refusal(uow: UnitOfWork, userId: string, id: string, photoSwap: boolean): Promise<never> {
    const row = await uow.assistantSessions.find(userId, id);
    if (!row) throw new NotFoundError(RESOURCE, id);
    if (row.status !== "active") {
      throw new ConflictError("DIALOG_CLOSED", `The dialog is ${row.status}; a closed dialog cannot change`, {
        id,
        status: row.status,
      });
    }
    if (photoSwap && row.pendingPhotoFileId === null) {
      throw new ConflictError("NO_PENDING_PHOTO", "The dialog has no pending photo to keep or take", { id });
    }
    throw new Error(`dialog ${id} is active but the write changed nothing`);
  }

  /** Runs one conditional write; answers the dialog or the reason nothing changed. */
  #write(
    userId: string,
    id: string,
    write: (uow: UnitOfWork) => Promise<AssistantSessionRow | undefined>,
    photoSwap = false,
  ): Promise<Dialog> {
    return this.store.statement(async (uow) => {
      const row = await write(uow);
      return row ? toDialog(row) : this.#refusal(uow, userId, id, photoSwap);
    });
  }

  /** The owner of a dialog, for admin requests that name no user. */
  async ownerOf(id: string): Promise<string> {
    const did = assertUuid("dialogId", id);
    return this.store.statement(async (uow) => {
      const owner = await uow.assistantSessions.ownerOf(did);
      if (!owner) throw new NotFoundError(RESOURCE, did);
      return owner;
    });
  }

  /**
   * Starts a dialog. An active dialog of the user is closed as `abandoned` first, in
   * the same transaction (the restart flow); the user's row lock makes concurrent
   * starts queue, so the last one wins and there is never a second active dialog.
   *
   * @example
   * const dialog = await convo.dialogs.create(user.id, { env: "prod", sessionId: conversation.id });
   */
  async create(userId: string, input: CreateDialogInput = {}): Promise<Dialog> {
    const uid = assertUuid("userId", userId);
    const env = input.env === undefined ? "prod" : assertEnv(input.env);
    const sessionId = input.sessionId == null ? null : assertUuid("sessionId", input.sessionId);
    return this.store.transaction(async (uow) => {
      if (!(await uow.users.lock(uid))) throw new NotFoundError("user", uid);
      if (sessionId && !(await uow.conversations.find(uid, sessionId))) throw new NotFoundError("conversation", sessionId);
      await uow.assistantSessions.closeActive(uid, "abandoned", uow.now);
      return toDialog(await uow.assistantSessions.insert({ userId: uid, sessionId, env, now: uow.now }));
    });
  }

  /** The dialog, active or closed; NotFoundError when there is none (or it is another user's). */
  async get(userId: string, id: string): Promise<Dialog> {
    const uid = assertUuid("userId", userId);
    const did = assertUuid("dialogId", id);
    return this.store.statement(async (uow) => {
      const row = await uow.assistantSessions.find(uid, did);
      if (!row) throw new NotFoundError(RESOURCE, did);
      return toDialog(row);
    });
  }

  /** The user's active dialog, or null when there is none (NotFoundError for an unknown user). */
  async getActive(userId: string): Promise<Dialog | null> {
    const uid = assertUuid("userId", userId);
    return this.store.statement(async (uow) => {
      const row = await uow.assistantSessions.findActive(uid);
      if (row) return toDialog(row);
      if (!(await uow.users.find(uid))) throw new NotFoundError("user", uid);
      return null;
    });
  }

  /**
   * Sets slots, step and flags and appends chat lines (never rewriting the stored
   * ones). An empty update only records activity, which keeps the dialog from expiring.
   *
   * @example
   * await convo.dialogs.update(user.id, dialog.id, {
   *   style: "anime", currentStep: 3,
   *   appendMessages: [{ role: "user", content: "anime" }, { role: "assistant", content: "Which emotion?" }],
   * });
   */
  async update(userId: string, id: string, update: DialogUpdate): Promise<Dialog> {
    const uid = assertUuid("userId", userId);
    const did = assertUuid("dialogId", id);
    const { changes, append } = checkDialogUpdate(update);
    return this.#write(uid, did, (uow) => uow.assistantSessions.update(uid, did, changes, append, uow.now));
  }

  /** Closes the dialog; `completed` also sets `confirmed` and `completedAt`. */
  async close(userId: string, id: string, status: DialogCloseStatus): Promise<Dialog> {
    const uid = assertUuid("userId", userId);
    const did = assertUuid("dialogId", id);
    const checked = checkCloseStatus(status);
    return this.#write(uid, did, (uow) => uow.assistantSessions.close(uid, did, checked, uow.now));
  }

  /**
   * Closes the user's active dialog (leaving for the manual menu); answers it, or
   * null when the user had none.
   */
  async closeActive(userId: string, status: DialogCloseStatus = "abandoned"): Promise<Dialog | null> {
    const uid = assertUuid("userId", userId);
    const checked = checkCloseStatus(status);
    return this.store.statement(async (uow) => {
      const row = await uow.assistantSessions.closeActive(uid, checked, uow.now);
      if (row) return toDialog(row);
      if (!(await uow.users.find(uid))) throw new NotFoundError("user", uid);
      return null;
    });
  }

  /**
   * Counts a model error. The third in a row closes the dialog as `error` and answers
   * `fellBack: true`, so the bot switches to manual mode.
   *
   * @example
   * const { fellBack } = await convo.dialogs.recordModelError(user.id, dialog.id);
   * if (fellBack) await showManualMenu();
   */
  async recordModelError(userId: string, id: string): Promise<ModelErrorResult> {
    const uid = assertUuid("userId", userId);
    const did = assertUuid("dialogId", id);
    const dialog = await this.#write(uid, did, (uow) => uow.assistantSessions.recordError(uid, did, DIALOG_MAX_ERRORS, uow.now));
    // Only an active dialog is written, so `error` now means this call closed it.
    return { dialog, fellBack: dialog.status === "error" };
  }

  /** A successful model reply: the error count starts again from zero. */
  async recordModelSuccess(userId: string, id: string): Promise<Dialog> {
    const uid = assertUuid("userId", userId);
    const did = assertUuid("dialogId", id);
    return this.#write(uid, did, (uow) => uow.assistantSessions.resetErrors(uid, did, uow.now));
  }

  /** The user sent a new photo while the dialog has one: keep it pending until they choose. */
  async setPendingPhoto(userId: string, id: string, fileId: string): Promise<Dialog> {
    const uid = assertUuid("userId", userId);
    const did = assertUuid("dialogId", id);
    const pendingPhotoFileId = assertText("fileId", fileId, { max: MAX_FILE_ID_LENGTH });
    return this.#write(uid, did, (uow) => uow.assistantSessions.update(uid, did, { pendingPhotoFileId }, [], uow.now));
  }

  /**
   * Ends the photo swap: `keep` keeps the dialog's photo and drops the pending one,
   * `take` makes the pending photo the dialog's photo. Without a pending photo the
   * answer is NO_PENDING_PHOTO (409) and nothing changes.
   */
  async resolvePendingPhoto(userId: string, id: string, choice: "keep" | "take"): Promise<Dialog> {
    const uid = assertUuid("userId", userId);
    const did = assertUuid("dialogId", id);
    if (choice !== "keep" && choice !== "take") {
      throw new ValidationError("choice must be 'keep' or 'take'", { field: "choice" });
    }
    return this.#write(uid, did, (uow) => uow.assistantSessions.resolvePendingPhoto(uid, did, choice, uow.now), true);
  }
}

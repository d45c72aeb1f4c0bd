/**
 * The public shape of an assistant dialog (DESIGN.md §1.7): one guided slot-filling
 * conversation of the sticker bot, stored flat in `assistant_sessions`.
 */

import { type DialogRole, type DialogStatus, LIMITS } from "@convo/protocol";
import type { assistantSessions } from "../db/schema.js";

export { DIALOG_STATUSES, type DialogRole, type DialogStatus } from "@convo/protocol";

/** The statuses a dialog can be closed with. */
export type DialogCloseStatus = Exclude<DialogStatus, "active">;

/** One line of the dialog's chat, as the model sees it. */
export interface DialogMessage {
  role: DialogRole;
  content: string;
}

/** Highest step of the guided dialog (0 = goal … 7 = confirmation). */
export const MAX_DIALOG_STEP = LIMITS.dialogMaxStep;

/** Model errors in a row that end a dialog as `error` (the bot falls back to manual mode). */
export const DIALOG_MAX_ERRORS = 3;

/**
 * The slots, step and photo fields of a dialog: the one definition every other dialog
 * shape (the record, an update, an imported or legacy dialog) is derived from.
 */
export interface DialogFields {
  /** What the user wants (step 0). */
  goal: string | null;
  style: string | null;
  emotion: string | null;
  pose: string | null;
  /** Text on the sticker; null = no text. */
  stickerText: string | null;
  confirmed: boolean;
  /** 0–7. */
  currentStep: number;
  /** A new photo waiting for "keep the old one / take the new one". */
  pendingPhotoFileId: string | null;
  /** The photo the sticker is made from. */
  photoFileId: string | null;
}

/** An assistant dialog as the library answers it. */
export interface Dialog extends DialogFields {
  id: string;
  userId: string;
  /** The conversation the dialog belongs to; null when none or when it was deleted. */
  sessionId: string | null;
  messages: DialogMessage[];
  /** Model errors in a row; a success resets it. */
  errorCount: number;
  status: DialogStatus;
  env: string;
  /** Where an imported dialog came from (`legacy:sessions:<id>`); null for live dialogs. */
  importKey: string | null;
  createdAt: Date;
  /** Last change; for a closed dialog, when it closed. */
  updatedAt: Date;
  /** When it was completed; null unless `status` is `completed`. */
  completedAt: Date | null;
}

/**
 * The public Dialog of a stored `assistant_sessions` row.
 *
 * @example
 * const row = await uow.assistantSessions.findActive(userId);
 * const dialog = row ? toDialog(row) : null;
 */
export function toDialog(row: AssistantSessionRow): Dialog {
  return {
    id: row.id,
    userId: row.userId,
    sessionId: row.sessionId,
    goal: row.goal,
    style: row.style,
    emotion: row.emotion,
    pose: row.pose,
    stickerText: row.stickerText,
    confirmed: row.confirmed,
    currentStep: row.currentStep,
    messages: row.messages as DialogMessage[],
    errorCount: row.errorCount,
    pendingPhotoFileId: row.pendingPhotoFileId,
    photoFileId: row.photoFileId,
    status: row.status as DialogStatus,
    env: row.env,
    importKey: row.importKey,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
  };
}

export type AssistantSessionRow = typeof assistantSessions.$inferSelect;

/** Slot, step and flag values an update may set (absent = unchanged, null = cleared). */
export type DialogChanges = Partial<DialogFields>;

/** A dialog written by the legacy import (never active: imported dialogs are history). */
export interface ImportedDialog
  extends Omit<DialogFields, "photoFileId">,
    Pick<Dialog, "userId" | "messages" | "errorCount" | "env" | "createdAt" | "updatedAt" | "completedAt"> {
  importKey: string;
  status: DialogCloseStatus;
}

/** A dialog the expiry sweep abandoned, with its owner's external id (`tg:<id>`), so a bot can tell them. */
export interface ExpiredDialogRow {
  dialogId: string;
  userId: string;
  env: string;
  externalId: string | null;
}

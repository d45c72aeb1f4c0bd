/**
 * Input rules for assistant dialogs. Every value is checked before it reaches the
 * database (NUL, lone surrogates, lengths, types), and an unknown field is refused
 * rather than ignored, so a typo in a slot name cannot pass silently.
 */
import { LIMITS } from "@convo/protocol";
import { ValidationError } from "../errors.js";
import { assertText, intInRange } from "../validation.js";
import { type DialogChanges, type DialogCloseStatus, type DialogMessage, type DialogRole, MAX_DIALOG_STEP } from "./types.js";

/** Longest goal accepted (the user's own words). */
export const MAX_GOAL_LENGTH = LIMITS.goalLength;
/** Longest style, emotion, pose or sticker text accepted. */
export const MAX_SLOT_LENGTH = LIMITS.slotLength;
/** Longest Telegram `file_id` accepted. */
export const MAX_FILE_ID_LENGTH = 512;
/** Longest chat line accepted. */
export const MAX_DIALOG_MESSAGE_LENGTH = 32_000;
/** Chat lines one update may append. */
export const MAX_APPEND_MESSAGES = 50;

/** What an update may change; absent fields stay as they are, `null` clears a slot. */
export interface DialogUpdate extends DialogChanges {
  /** Chat lines added after the stored ones (the stored chat is never rewritten). */
  appendMessages?: DialogMessage[];
}

const TEXT_FIELDS: Record<string, number> = {
  goal: MAX_GOAL_LENGTH,
  style: MAX_SLOT_LENGTH,
  emotion: MAX_SLOT_LENGTH,
  pose: MAX_SLOT_LENGTH,
  stickerText: MAX_SLOT_LENGTH,
  pendingPhotoFileId: MAX_FILE_ID_LENGTH,
  photoFileId: MAX_FILE_ID_LENGTH,
};
const ROLES = new Set<DialogRole>(["user", "assistant", "system"]);
const CLOSE_STATUSES = new Set<DialogCloseStatus>(["completed", "abandoned", "error"]);

/** Checks chat lines to append; answers them as `{ role, content }` only. */
export function checkDialogMessages(field: string, value: unknown): DialogMessage[] {
  if (!Array.isArray(value)) throw new ValidationError(`${field} must be an array of { role, content }`, { field });
  if (value.length > MAX_APPEND_MESSAGES) {
    throw new ValidationError(`${field} holds more than ${MAX_APPEND_MESSAGES} messages`, { field, max: MAX_APPEND_MESSAGES });
  }
  return value.map((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new ValidationError(`${at} must be an object { role, content }`, { field: at });
    }
    const { role, content, ...rest } = item as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new ValidationError(`${at}.${extra} is not a field of a message`, { field: `${at}.${extra}` });
    if (!ROLES.has(role as DialogRole)) {
      throw new ValidationError(`${at}.role must be one of user, assistant, system`, { field: `${at}.role` });
    }
    return {
      role: role as DialogRole,
      content: assertText(`${at}.content`, content, { allowEmpty: true, max: MAX_DIALOG_MESSAGE_LENGTH }),
    };
  });
}

/** Checks an update; answers the column changes and the chat lines to append. */
export function checkDialogUpdate(input: unknown): { changes: DialogChanges; append: DialogMessage[] } {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ValidationError("update must be an object", { field: "body" });
  }
  const changes: Record<string, unknown> = {};
  let append: DialogMessage[] = [];
  for (const [field, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined) continue;
    const max = TEXT_FIELDS[field];
    if (max !== undefined) {
      changes[field] = value === null ? null : assertText(field, value, { max });
    } else if (field === "confirmed") {
      if (typeof value !== "boolean") throw new ValidationError("confirmed must be a boolean", { field });
      changes[field] = value;
    } else if (field === "currentStep") {
      if (value === null) throw new ValidationError(`currentStep must be an integer from 0 to ${MAX_DIALOG_STEP}`, { field });
      changes[field] = intInRange(field, value, 0, MAX_DIALOG_STEP, 0);
    } else if (field === "appendMessages") {
      append = checkDialogMessages(field, value);
    } else {
      throw new ValidationError(`${field} is not a field of a dialog update`, { field });
    }
  }
  return { changes: changes as DialogChanges, append };
}

/** Checks a status to close a dialog with. */
export function checkCloseStatus(value: unknown): DialogCloseStatus {
  if (!CLOSE_STATUSES.has(value as DialogCloseStatus)) {
    throw new ValidationError("status must be 'completed', 'abandoned' or 'error'", { field: "status" });
  }
  return value as DialogCloseStatus;
}

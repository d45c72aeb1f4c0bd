/**
 * One row of a legacy `sessions` table → one flat dialog, or the reason it is
 * skipped. Pure: no database, so every rule can be read (and tested) here.
 *
 * Rules (docs/dialogs.md, "Import"):
 * - all four assistant columns null (or empty: `[]`, `{}`, 0) → not a dialog;
 * - a jsonb value that is a string is decoded once more (double-encoded JSON, or a
 *   text/json column); what then is not an array of `{ role, content }` or not an
 *   object of params skips the row;
 * - text holding NUL or a lone surrogate (possible in a `json`/text column or in
 *   double-encoded JSON, never in jsonb itself) skips the row: it cannot be stored;
 * - `text` → sticker text, `step` → current step clamped to 0–7 (an integer, or a
 *   string of digits; anything else skips), empty strings → null;
 * - the goal is `params.goal` when stored, else the first user message;
 * - status: confirmed → completed; 3+ model errors → error; otherwise abandoned.
 */
import { isUuid, textProblem } from "../validation.js";
import {
  DIALOG_MAX_ERRORS,
  type DialogCloseStatus,
  type DialogMessage,
  type DialogRole,
  type ImportedDialog,
  MAX_DIALOG_STEP,
} from "./types.js";

/** The columns the import reads from a legacy `sessions` row (others are ignored). */
export interface LegacySessionRow {
  id: string;
  /** The legacy user: a UUID or an integer (as text). */
  user_id: string | null;
  /** The user's Telegram id from the legacy users table, when there is one (as text). */
  telegram_id?: string | null;
  assistant_messages: unknown;
  assistant_params: unknown;
  assistant_error_count: unknown;
  pending_photo_file_id: unknown;
  created_at: Date | string | null;
  updated_at: Date | string | null;
}

/** A legacy row mapped to a dialog, before its user is mapped to a Convo user. */
export interface LegacyDialog extends Omit<ImportedDialog, "userId" | "env"> {
  legacyId: string;
  legacyUserId: string;
  /** `tg:<telegram id>` when the legacy users table holds one: the user the bot middleware maps to. */
  ownerExternalId: string | null;
}

/** Why rows are skipped; the keys of `skippedByReason`. */
export const SKIP_REASONS = {
  noData: "no assistant data",
  noUser: "no user_id",
  badUser: "user_id is not a UUID or an integer",
  messagesNotJson: "assistant_messages is not valid JSON",
  messagesNotArray: "assistant_messages is not an array",
  messageShape: "assistant_messages has an item that is not { role, content }",
  paramsNotJson: "assistant_params is not valid JSON",
  paramsNotObject: "assistant_params is not an object",
  paramType: "assistant_params has a field of the wrong type",
  stepNotInteger: "step is not an integer",
  errorCount: "assistant_error_count is not a non-negative integer",
  photoNotText: "pending_photo_file_id is not text",
  nul: "text contains a NUL character",
  surrogate: "text contains a lone surrogate",
  rejected: "rejected by the database",
} as const;

export type MappedLegacyRow = { ok: true; dialog: LegacyDialog } | { ok: false; reason: string };

/**
 * The import key of a legacy row: the same row always maps to the same key, which is
 * what makes a re-run of the import add nothing twice.
 *
 * @example
 * legacyImportKey("0b6f3c1e-9d2a-4f5b-8c7d-1e2f3a4b5c6d"); // "legacy:sessions:0b6f3c1e-9d2a-4f5b-8c7d-1e2f3a4b5c6d"
 */
export const legacyImportKey = (id: string) => `legacy:sessions:${id}`;

class Skip extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isEmpty = (v: unknown) =>
  v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** jsonb arrives parsed; a string is a text/json column or double-encoded JSON: decode once. */
function decode(value: unknown, notJson: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new Skip(notJson);
  }
}

/** A storable string, or the skip. */
function storable(value: string): string {
  const problem = textProblem(value);
  if (problem?.includes("NUL")) throw new Skip(SKIP_REASONS.nul);
  if (problem) throw new Skip(SKIP_REASONS.surrogate);
  return value;
}

/** A slot value: a string (blank → null) or absent/null. */
function slot(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw new Skip(SKIP_REASONS.paramType);
  const text = storable(value).trim();
  return text === "" ? null : text;
}

// Gemini calls the assistant "model"; the dialog's chat says "assistant".
const ROLE_MAP: Record<string, DialogRole> = { user: "user", assistant: "assistant", model: "assistant", system: "system" };

function messagesOf(raw: unknown): DialogMessage[] {
  const value = decode(raw ?? [], SKIP_REASONS.messagesNotJson);
  if (!Array.isArray(value)) throw new Skip(SKIP_REASONS.messagesNotArray);
  return value.map((item) => {
    if (!isObject(item) || typeof item.role !== "string" || typeof item.content !== "string") {
      throw new Skip(SKIP_REASONS.messageShape);
    }
    const role = ROLE_MAP[item.role];
    if (!role) throw new Skip(SKIP_REASONS.messageShape);
    return { role, content: storable(item.content) };
  });
}

function stepOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) throw new Skip(SKIP_REASONS.stepNotInteger);
  return Math.min(MAX_DIALOG_STEP, Math.max(0, n));
}

function errorCountOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new Skip(SKIP_REASONS.errorCount);
  return n;
}

function dateOf(value: Date | string | null): Date | null {
  if (value === null) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * Maps one legacy row; `now` stands in for missing timestamps. Pure, so a dry look at
 * a legacy table needs no Convo database.
 *
 * @example
 * const mapped = mapLegacyRow(row, new Date());
 * if (mapped.ok) console.log(mapped.dialog.status, mapped.dialog.goal);
 * else console.log(`skip ${row.id}: ${mapped.reason}`);
 */
export function mapLegacyRow(row: LegacySessionRow, now: Date): MappedLegacyRow {
  const columns = [row.assistant_messages, row.assistant_params, row.assistant_error_count, row.pending_photo_file_id];
  if (columns.every((v) => v === null || v === undefined)) return { ok: false, reason: SKIP_REASONS.noData };
  try {
    const messages = messagesOf(row.assistant_messages);
    const params = decode(row.assistant_params ?? {}, SKIP_REASONS.paramsNotJson);
    if (!isObject(params)) throw new Skip(SKIP_REASONS.paramsNotObject);
    const errorCount = errorCountOf(row.assistant_error_count);
    if (row.pending_photo_file_id != null && typeof row.pending_photo_file_id !== "string") {
      throw new Skip(SKIP_REASONS.photoNotText);
    }
    const pendingPhotoFileId = slot(row.pending_photo_file_id);
    // A legacy schema with DEFAULT '[]' / '{}' / 0 leaves every ordinary session "non-null".
    if (messages.length === 0 && isEmpty(params) && errorCount === 0 && pendingPhotoFileId === null) {
      return { ok: false, reason: SKIP_REASONS.noData };
    }
    if (!row.user_id) return { ok: false, reason: SKIP_REASONS.noUser };
    const userId = String(row.user_id);
    if (!isUuid(userId) && !/^-?\d{1,19}$/.test(userId)) return { ok: false, reason: SKIP_REASONS.badUser };
    const telegramId = row.telegram_id == null ? null : String(row.telegram_id);
    if (params.confirmed != null && typeof params.confirmed !== "boolean") throw new Skip(SKIP_REASONS.paramType);
    const confirmed = params.confirmed === true;
    const firstUserLine = messages.find((m) => m.role === "user" && m.content.trim() !== "");
    const goal = slot(params.goal) ?? firstUserLine?.content.trim() ?? null;
    const createdAt = dateOf(row.created_at) ?? dateOf(row.updated_at) ?? now;
    const updatedAt = dateOf(row.updated_at) ?? createdAt;
    const status: DialogCloseStatus = confirmed ? "completed" : errorCount >= DIALOG_MAX_ERRORS ? "error" : "abandoned";
    return {
      ok: true,
      dialog: {
        legacyId: row.id,
        legacyUserId: userId.toLowerCase(),
        ownerExternalId: telegramId && /^\d{1,19}$/.test(telegramId) ? `tg:${telegramId}` : null,
        importKey: legacyImportKey(row.id),
        goal,
        style: slot(params.style),
        emotion: slot(params.emotion),
        pose: slot(params.pose),
        stickerText: slot(params.text),
        confirmed,
        currentStep: stepOf(params.step),
        messages,
        errorCount,
        pendingPhotoFileId,
        status,
        createdAt,
        updatedAt,
        completedAt: status === "completed" ? updatedAt : null,
      },
    };
  } catch (error) {
    if (error instanceof Skip) return { ok: false, reason: error.reason };
    throw error;
  }
}

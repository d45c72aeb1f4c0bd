/**
 * The input rules of Convo, written once. The server's Zod schemas and the core's
 * validators both read these, so a limit cannot drift between the HTTP API and the
 * library.
 */

/** Message roles (the `Role` schema and type are in messages.ts). */
export const ROLES = ["user", "assistant", "system", "tool"] as const;

/** A run's status. */
export const RUN_STATUSES = ["running", "done", "error", "cancelled"] as const;
/** A run's status: `running` until exactly one terminal event is stored. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The types of a run's stored events. */
export const RUN_EVENT_TYPES = ["thinking", "tool_call", "delta", "done", "error", "cancelled"] as const;
/** The type of a stored run event. */
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

/** Why a conversation was closed: by the user, by the app, or by the inactivity sweep. */
export const CLOSE_REASONS = ["user", "inactivity", "app"] as const;
/** Why a conversation was closed. */
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** Where a title came from; a `user` title is never overwritten. */
export const TITLE_SOURCES = ["heuristic", "model", "date", "user"] as const;
/** Where a conversation's title came from. */
export type TitleSource = (typeof TITLE_SOURCES)[number];

/** A conversation's derived status. */
export const CONVERSATION_STATUSES = ["active", "inactive", "closed"] as const;
/** `active` (open, recent), `inactive` (open, idle past the limit) or `closed`. */
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** A dialog's status. */
export const DIALOG_STATUSES = ["active", "completed", "abandoned", "error"] as const;
/** An assistant dialog's status. */
export type DialogStatus = (typeof DIALOG_STATUSES)[number];

/** The roles of a dialog's chat lines. */
export const DIALOG_ROLES = ["user", "assistant", "system"] as const;
/** A dialog chat line's role. */
export type DialogRole = (typeof DIALOG_ROLES)[number];

/** Numbers every client and the server agree on. */
export const LIMITS = {
  /** Longest title, in Unicode code points (PostgreSQL's `char_length`). */
  titleLength: 30,
  /** Longest message text (UTF-16 code units); bodies are limited separately. */
  contentLength: 256 * 1024,
  /** Longest `clientMessageId`, `externalId` or display name. */
  idLength: 200,
  /** Longest `env` name. */
  envLength: 32,
  /** Context: most messages of the current conversation. */
  historyLimit: 200,
  /** Context: most previous conversations. */
  sessionsLimit: 20,
  /** Highest dialog step (confirmation). */
  dialogMaxStep: 7,
  /** Longest dialog goal. */
  goalLength: 2000,
  /** Longest dialog slot (style, emotion, pose, text). */
  slotLength: 200,
  /** Largest seq / cursor integer a query may name. */
  maxSeq: 2 ** 31 - 1,
} as const;

/** An `env` name: short, printable, no surprises in logs or analytics. */
export const ENV_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what we look for
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be stored, or undefined when it can. PostgreSQL refuses `\u0000`
 * in text and jsonb, and a lone UTF-16 surrogate cannot be encoded as UTF-8.
 *
 * @example
 * textProblem("a\u0000b"); // "contains a NUL character (\\u0000), which cannot be stored"
 * textProblem("кот 🐱");   // undefined
 */
export function textProblem(value: string): string | undefined {
  if (NUL.test(value)) return "contains a NUL character (\\u0000), which cannot be stored";
  if (LONE_SURROGATE.test(value)) return "contains a lone UTF-16 surrogate (invalid Unicode)";
  return undefined;
}

/**
 * The length PostgreSQL's `char_length` gives: Unicode code points, not UTF-16 units.
 *
 * @example
 * codePointLength("🐱🐱"); // 2
 */
export function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

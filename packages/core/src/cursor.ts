/**
 * Keyset cursors for lists. A cursor names its position (`updatedAt`, `id`) and the
 * list it belongs to (user and filters); one from another list is refused with a 400
 * instead of silently paging something else.
 */
import { createHash } from "node:crypto";
import { BadRequestError } from "./errors.js";
import { isUuid } from "./validation.js";

export interface KeysetPosition {
  updatedAt: string;
  id: string;
}

const listKey = (scope: string) => createHash("sha256").update(scope).digest("base64url").slice(0, 12);

/**
 * Encodes a position in the list identified by `scope` (the user and the filters), for
 * a page's `nextCursor`.
 *
 * @example
 * const scope = `runs:${userId}:${conversationId}`;
 * const nextCursor = hasMore ? encodeCursor(scope, { updatedAt: last.createdAt.toISOString(), id: last.id }) : null;
 */
export function encodeCursor(scope: string, position: KeysetPosition): string {
  return Buffer.from(JSON.stringify({ l: listKey(scope), t: position.updatedAt, i: position.id })).toString("base64url");
}

/**
 * Decodes a cursor of the list `scope`; throws BadRequestError (INVALID_CURSOR) otherwise.
 *
 * @example
 * const after = options.cursor === undefined ? undefined : decodeCursor(`runs:${userId}:${conversationId}`, options.cursor);
 */
export function decodeCursor(scope: string, cursor: string): KeysetPosition {
  const invalid = (why: string) => new BadRequestError(`cursor is not valid: ${why}`, "INVALID_CURSOR", { field: "cursor" });
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw new Error("not base64url");
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid("it is not a cursor this API issued");
  }
  const { l, t, i } = (parsed ?? {}) as { l?: unknown; t?: unknown; i?: unknown };
  if (typeof t !== "string" || Number.isNaN(Date.parse(t)) || !isUuid(i)) {
    throw invalid("it is not a cursor this API issued");
  }
  if (l !== listKey(scope)) throw invalid("it belongs to another list (other user or filters)");
  return { updatedAt: t, id: i };
}

export interface Page<T> {
  items: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

/**
 * Keyset cursors for lists. A cursor names its position (`updatedAt`, `id`) and the
 * list it belongs to (user and filters), and is signed with HMAC-SHA256 under the
 * store's cursor secret: a forged or edited cursor is refused with a 400 before any
 * of its values reach SQL, and one from another list is refused instead of silently
 * paging something else.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { BadRequestError } from "./errors.js";
import { isUuid } from "./validation.js";

export interface KeysetPosition {
  updatedAt: string;
  id: string;
}

const listKey = (scope: string) => createHash("sha256").update(scope).digest("base64url").slice(0, 12);
const sign = (key: Buffer, payload: string) => createHmac("sha256", key).update(payload).digest().subarray(0, 16);

// Exactly what Date#toISOString writes for years 0000–9999: a cursor only ever holds
// a time Convo wrote, so anything else is not one of ours.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Encodes a position in the list identified by `scope`, signed with `key`.
 *
 * @example
 * const cursor = encodeCursor(`conversations:${userId}`, { updatedAt: row.updatedAt.toISOString(), id: row.id }, store.cursorSecret);
 */
export function encodeCursor(scope: string, position: KeysetPosition, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify({ l: listKey(scope), t: position.updatedAt, i: position.id })).toString("base64url");
  return `${payload}.${sign(key, payload).toString("base64url")}`;
}

/**
 * Decodes a cursor of the list `scope` signed with `key`; throws BadRequestError
 * (`INVALID_CURSOR`, 400) for anything else.
 *
 * @example
 * const after = cursor === undefined ? undefined : decodeCursor(scope, cursor, store.cursorSecret);
 */
export function decodeCursor(scope: string, cursor: string, key: Buffer): KeysetPosition {
  const invalid = (why: string) => new BadRequestError(`cursor is not valid: ${why}`, "INVALID_CURSOR", { field: "cursor" });
  const notOurs = () => invalid("it is not a cursor this API issued");
  const match = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
  if (!match) throw notOurs();
  const [, payload, signature] = match as unknown as [string, string, string];
  const expected = sign(key, payload);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw notOurs();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw notOurs();
  }
  const { l, t, i } = (parsed ?? {}) as { l?: unknown; t?: unknown; i?: unknown };
  if (typeof t !== "string" || !ISO_TIME.test(t) || new Date(t).toISOString() !== t || !isUuid(i)) throw notOurs();
  if (l !== listKey(scope)) throw invalid("it belongs to another list (other user or filters)");
  return { updatedAt: t, id: i };
}

export interface Page<T> {
  items: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

/**
 * A page from the `limit + 1` rows a keyset read returns (the extra row only says
 * there is more), with the signed cursor of its last item. `keyOf` names the ordering
 * time of an item (`updatedAt` for conversations, `createdAt` for most lists).
 *
 * @example
 * return keysetPage(rows.map(toRun), limit, `runs:${userId}:${conversationId}`, store.cursorSecret, (run) => run.createdAt);
 */
export function keysetPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  scope: string,
  key: Buffer,
  keyOf: (item: T) => Date,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const hasMore = rows.length > limit;
  return {
    items,
    hasMore,
    nextCursor: hasMore && last ? encodeCursor(scope, { updatedAt: keyOf(last).toISOString(), id: last.id }, key) : null,
  };
}

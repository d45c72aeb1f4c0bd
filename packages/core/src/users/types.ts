/** The shapes of users, as stored and as the library answers them. */
import type { users } from "../db/schema.js";

export type UserRow = typeof users.$inferSelect;

export interface User {
  id: string;
  externalId: string | null;
  displayName: string | null;
  profile: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The public User of a stored row.
 *
 * @example
 * const row = await uow.users.find(userId);
 * if (!row) throw new NotFoundError("user", userId);
 * return toUser(row);
 */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    externalId: row.externalId,
    displayName: row.displayName,
    profile: row.profile,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export interface UserInput {
  /** The platform's id for the user (e.g. a Telegram user id), unique across Convo. */
  externalId?: string | null;
  displayName?: string | null;
  profile?: Record<string, unknown>;
}

/**
 * Who is calling. An admin key acts for any user; an end-user token only for its
 * `sub`. In open mode (no key and no token secret configured, loopback only) every
 * caller is an admin.
 */
import { NotFoundError } from "@convo/core";

export type Principal = { kind: "admin"; keyId: string | null } | { kind: "user"; userId: string };

/** No or bad credentials (401); the class lives with the others in the core's errors module. */
export { UnauthorizedError } from "@convo/core";

/**
 * The user a user-scoped path (`/v1/users/:userId/…`) may act for. Another user's id
 * answers 404, never 403: a token must not learn which ids exist.
 */
export function userScope(principal: Principal, userId: string): string {
  if (principal.kind === "user" && principal.userId !== userId.toLowerCase()) throw new NotFoundError("user", userId);
  return userId.toLowerCase();
}

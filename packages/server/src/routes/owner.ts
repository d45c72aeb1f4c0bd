/**
 * Which user a request about a resource (`/v1/conversations/:id`…) acts for. An
 * end-user token acts for its own user: the id lookup then filters on it and another
 * user's resource is simply not found. An admin key may name the user in
 * `X-Convo-User-Id` (one query fewer); otherwise the owner is looked up by id.
 */
import { BadRequestError, type Convo, isUuid } from "@convo/core";
import type { FastifyRequest } from "fastify";

export const USER_HEADER = "x-convo-user-id";

/** The user an admin request names in `X-Convo-User-Id`, if any. */
function namedUser(request: FastifyRequest): string | undefined {
  const header = request.headers[USER_HEADER];
  if (header === undefined) return undefined;
  if (!isUuid(header))
    throw new BadRequestError(`${USER_HEADER} must be a user id (UUID)`, "INVALID_REQUEST", { field: USER_HEADER });
  return header.toLowerCase();
}

/** The user whose conversation `id` is, as far as this caller may know. */
export async function conversationUser(request: FastifyRequest, convo: Convo, id: string): Promise<string> {
  const principal = request.principal;
  if (principal.kind === "user") return principal.userId;
  return namedUser(request) ?? convo.conversations.ownerOf(id);
}

export { namedUser };

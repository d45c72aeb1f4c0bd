/**
 * Which user a request about a resource (`/v1/conversations/:id`, `/v1/runs/:id`,
 * `/v1/assistant-sessions/:id`) acts for — one lookup for every kind. An end-user
 * token acts for its own user: the id lookup then filters on it and another user's
 * resource is simply not found. An admin key may name the user in `X-Convo-User-Id`
 * (one query fewer); otherwise the owner is looked up by id, and an unknown id is a
 * NotFoundError (404).
 */
import { BadRequestError, type Convo, isUuid } from "@convo/core";
import type { FastifyRequest } from "fastify";

export const USER_HEADER = "x-convo-user-id";

/** The kinds of resource a route can name by id. */
export type OwnedResource = "conversation" | "run" | "dialog";

/** The user an admin request names in `X-Convo-User-Id`, if any. */
export function namedUser(request: FastifyRequest): string | undefined {
  const header = request.headers[USER_HEADER];
  if (header === undefined) return undefined;
  if (!isUuid(header))
    throw new BadRequestError(`${USER_HEADER} must be a user id (UUID)`, "INVALID_REQUEST", { field: USER_HEADER });
  return header.toLowerCase();
}

/** The user whose `kind` resource `id` is, as far as this caller may know (NotFoundError when none). */
export async function resourceUser(request: FastifyRequest, convo: Convo, kind: OwnedResource, id: string): Promise<string> {
  const principal = request.principal;
  if (principal.kind === "user") return principal.userId;
  const named = namedUser(request);
  if (named) return named;
  switch (kind) {
    case "conversation":
      return convo.conversations.ownerOf(id);
    case "run":
      return convo.runs.ownerOf(id);
    case "dialog":
      return convo.dialogs.ownerOf(id);
  }
}

/** Which user a request about a run acts for (see owner.ts for conversations). */
import { type Convo, NotFoundError } from "@convo/core";
import type { FastifyRequest } from "fastify";
import { namedUser } from "./owner.js";

export async function runUser(request: FastifyRequest, convo: Convo, runId: string): Promise<string> {
  const principal = request.principal;
  if (principal.kind === "user") return principal.userId;
  const named = namedUser(request);
  if (named) return named;
  const owner = await convo.runs.ownerOf(runId);
  if (!owner) throw new NotFoundError("run", runId);
  return owner;
}

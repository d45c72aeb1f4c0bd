/**
 * The conversation's state document. The version travels as the ETag; writes must
 * send it back in `If-Match` (428 without, 409 when stale — DESIGN.md §3).
 */
import { BadRequestError, ConvoError, type ConversationState as State } from "@convo/core";
import { ConversationState, errorResponses, IdParams, StateDoc, StateHeaders } from "@convo/protocol";
import type { FastifyReply } from "fastify";
import { jsonify } from "../json.js";
import { resourceUser } from "./owner.js";
import type { App, RouteDeps } from "./types.js";

/** If-Match is required on writes (428). */
class PreconditionRequiredError extends ConvoError {
  constructor() {
    super("PRECONDITION_REQUIRED", 428, 'Send If-Match: "<version>" (the ETag of the state you read) to write the state');
  }
}

/** The version an If-Match header names: `"3"`, `W/"3"` or `3`. */
function expectedVersion(header: string | undefined): number {
  if (header === undefined) throw new PreconditionRequiredError();
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!match) throw new BadRequestError('If-Match must be a state version, e.g. "3"', "INVALID_REQUEST", { field: "if-match" });
  return Number(match[1]);
}

function send(reply: FastifyReply, state: State) {
  reply.header("etag", `"${state.version}"`);
  return { conversationId: state.conversationId, version: state.version, state: state.doc, updatedAt: jsonify(state.updatedAt) };
}

export async function stateRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  const response = { 200: ConversationState, 428: errorResponses[400], ...errorResponses };

  app.get(
    "/v1/conversations/:id/state",
    { schema: { tags: ["state"], summary: "Read the state document (ETag = version)", params: IdParams, response } },
    async (request, reply) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      return send(reply, await convo.state.get(userId, request.params.id));
    },
  );

  app.put(
    "/v1/conversations/:id/state",
    {
      schema: {
        tags: ["state"],
        summary: "Replace the state document (If-Match required)",
        params: IdParams,
        headers: StateHeaders,
        body: StateDoc,
        response,
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request.headers["if-match"]);
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      return send(reply, await convo.state.replace(userId, request.params.id, request.body, version));
    },
  );

  app.patch(
    "/v1/conversations/:id/state",
    {
      schema: {
        tags: ["state"],
        summary: "Patch the state document with a JSON merge patch (RFC 7396; If-Match required)",
        params: IdParams,
        headers: StateHeaders,
        body: StateDoc,
        response,
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request.headers["if-match"]);
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      return send(reply, await convo.state.patch(userId, request.params.id, request.body, version));
    },
  );
}

/** Conversations: create, list, read, rename, close, delete. */

import {
  CloseConversationBody,
  ConversationDetail,
  ConversationList,
  ConversationSummary,
  CreateConversationBody,
  errorResponses,
  IdParams,
  ListConversationsQuery,
  PatchConversationBody,
  UserIdParams,
} from "@convo/protocol";
import { z } from "zod";
import { userScope } from "../auth/principal.js";
import { jsonify } from "../json.js";
import { resourceUser } from "./owner.js";
import type { App, RouteDeps } from "./types.js";

export async function conversationRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  app.post(
    "/v1/users/:userId/conversations",
    {
      schema: {
        tags: ["conversations"],
        summary:
          "Start a conversation (optionally closing the current one); with only an externalId that exists, answers that one (200)",
        params: UserIdParams,
        // Fastify validates a missing body as null.
        body: CreateConversationBody.nullish(),
        response: { 200: ConversationSummary, 201: ConversationSummary, ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = userScope(request.principal, request.params.userId);
      const body = request.body ?? {};
      if (body.externalId !== undefined && body.title === undefined && !body.closeCurrent) {
        // A client's own key (`INSERT … ON CONFLICT DO NOTHING`): the same key, the same conversation.
        const { conversation, created } = await convo.conversations.openByKey(userId, body.externalId, { env: body.env });
        return reply.status(created ? 201 : 200).send(jsonify(conversation));
      }
      const conversation = await convo.conversations.create(userId, request.body ?? {});
      return reply.status(201).send(jsonify(conversation));
    },
  );

  app.get(
    "/v1/users/:userId/conversations",
    {
      schema: {
        tags: ["conversations"],
        summary: "List a user's conversations, newest activity first",
        params: UserIdParams,
        querystring: ListConversationsQuery,
        response: { 200: ConversationList, ...errorResponses },
      },
    },
    async (request) => {
      const userId = userScope(request.principal, request.params.userId);
      const page = await convo.conversations.list(userId, request.query);
      return { sessions: jsonify(page.items), hasMore: page.hasMore, total: page.total, nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/conversations/:id",
    {
      schema: {
        tags: ["conversations"],
        summary: "A conversation with its messages (the first 500; page further with /messages)",
        params: IdParams,
        response: { 200: ConversationDetail, ...errorResponses },
      },
    },
    async (request) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      return jsonify(await convo.conversations.get(userId, request.params.id));
    },
  );

  app.patch(
    "/v1/conversations/:id",
    {
      schema: {
        tags: ["conversations"],
        summary: "Rename (a manual title is never overwritten by automatic ones)",
        params: IdParams,
        body: PatchConversationBody,
        response: { 200: ConversationSummary, ...errorResponses },
      },
    },
    async (request) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      return jsonify(await convo.conversations.rename(userId, request.params.id, request.body.title));
    },
  );

  app.post(
    "/v1/conversations/:id/close",
    {
      schema: {
        tags: ["conversations"],
        summary: "Close (idempotent)",
        params: IdParams,
        body: CloseConversationBody,
        response: { 200: ConversationSummary, ...errorResponses },
      },
    },
    async (request) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      return jsonify(await convo.conversations.close(userId, request.params.id, request.body?.reason ?? "user"));
    },
  );

  app.delete(
    "/v1/conversations/:id",
    {
      schema: {
        tags: ["conversations"],
        summary: "Delete with its messages, state and runs",
        params: IdParams,
        response: { 204: z.null().describe("Deleted"), ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      await convo.conversations.delete(userId, request.params.id);
      return reply.status(204).send(null);
    },
  );
}

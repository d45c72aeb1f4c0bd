/** Messages: append, append to the current conversation, page. */

import {
  AppendMessageBody,
  AppendToCurrentBody,
  ConversationSummary,
  errorResponses,
  IdParams,
  Message,
  MessageList,
  MessagesQuery,
  UserIdParams,
} from "@convo/protocol";
import { userScope } from "../auth/principal.js";
import { jsonify } from "../json.js";
import { resourceUser } from "./owner.js";
import type { App, RouteDeps } from "./types.js";

const AppendToCurrentResponse = Message.extend({
  conversation: ConversationSummary,
  conversationCreated: ConversationSummary.shape.isActive.describe("True when this message opened a new conversation"),
});

export async function messageRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  app.post(
    "/v1/conversations/:id/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "Append a message (201; 200 with the stored message for a repeated clientMessageId)",
        params: IdParams,
        body: AppendMessageBody,
        response: { 200: Message, 201: Message, ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      const { message, created } = await convo.messages.append(userId, request.params.id, request.body);
      return reply.status(created ? 201 : 200).send(jsonify(message));
    },
  );

  app.get(
    "/v1/conversations/:id/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "Messages after a seq, oldest first",
        params: IdParams,
        querystring: MessagesQuery,
        response: { 200: MessageList, ...errorResponses },
      },
    },
    async (request) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      const { last, ...pageQuery } = request.query;
      if (last !== undefined) {
        const messages = await convo.messages.last(userId, request.params.id, { limit: last });
        return { messages: jsonify(messages), hasMore: (messages[0]?.seq ?? 1) > 1, nextCursor: null };
      }
      const page = await convo.messages.page(userId, request.params.id, pageQuery);
      return {
        messages: jsonify(page.items),
        hasMore: page.hasMore,
        nextCursor: page.nextAfterSeq === null ? null : String(page.nextAfterSeq),
      };
    },
  );

  app.post(
    "/v1/users/:userId/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "Append to the user's current conversation (or the one keyed externalId), opening one when needed",
        params: UserIdParams,
        body: AppendToCurrentBody,
        response: { 200: AppendToCurrentResponse, 201: AppendToCurrentResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = userScope(request.principal, request.params.userId);
      const result = await convo.messages.appendToCurrent(userId, request.body);
      return reply.status(result.created ? 201 : 200).send({
        ...jsonify(result.message),
        conversation: jsonify(result.conversation),
        conversationCreated: result.conversationCreated,
      });
    },
  );
}

/**
 * Convo as the backend of the AI SDK's `useChat` (AI SDK 6, UI message stream v1):
 *
 * - `POST /v1/chat` takes what `DefaultChatTransport` sends (`{ id, messages, trigger,
 *   messageId }`, or `{ id, message }`); `id` is the conversation id. Only the new user
 *   message is stored (Convo holds the history; its UI message id becomes the
 *   `clientMessageId`, so a retried POST answers the same run); a run starts and the
 *   answer is that run's events as UI message chunks.
 * - `GET /v1/chat/:id/stream` (`useChat({ resume: true })` on mount): 204 when no run is
 *   running in the conversation, else the running run replayed from its first event.
 * - `POST /v1/chat/:id/stop` cancels the conversation's running run.
 * - `POST /v1/stream-tokens` mints a short-lived `?access_token=` for one stream.
 */
import { BadRequestError, type Convo, ConvoError, type Run } from "@convo/core";
import {
  ChatBody,
  errorResponses,
  IdParams,
  StopResponse,
  StreamTokenBody,
  StreamTokenResponse,
  type UiMessage,
} from "@convo/protocol";
import { createUIMessageStreamResponse } from "ai";
import type { FastifyReply, FastifyRequest } from "fastify";
import { userScope } from "../auth/principal.js";
import { resourceUser } from "../routes/owner.js";
import { requestSignal } from "../routes/runs.js";
import type { App, RouteDeps } from "../routes/types.js";
import type { StreamLimiter } from "../stream-limits.js";
import type { StreamTokens } from "./stream-tokens.js";
import { uiChunkStream } from "./ui-chunks.js";

export interface ChatRouteDeps extends RouteDeps {
  streamTokens: StreamTokens;
  /** Caps open streams per user and per node (a chat stream counts like any other). */
  streams: StreamLimiter;
  /** Aborted when the server shuts down: open streams end. */
  shutdown: AbortSignal;
}

/** A comment line every 15 s keeps idle proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

/** The text of a UI message: its text parts, in order. */
function textOf(message: UiMessage): string {
  return message.parts
    .filter((part) => part.type === "text" && typeof part.text === "string")
    .map((part) => part.text as string)
    .join("");
}

/** The conversation's running run (the newest run is the running one when one runs: one at a time). */
async function runningRun(convo: Convo, userId: string, conversationId: string): Promise<Run | undefined> {
  const page = await convo.runs.list(userId, conversationId, { limit: 1 });
  const newest = page.items[0];
  return newest?.status === "running" ? newest : undefined;
}

/** The user message a regeneration answers again: the one `messageId` (an answer = a run id) answered, else the last. */
async function regeneratedMessage(
  convo: Convo,
  userId: string,
  conversationId: string,
  messageId: string | undefined,
): Promise<string | undefined> {
  if (messageId === undefined || !/^[0-9a-f-]{36}$/i.test(messageId)) return undefined;
  try {
    const run = await convo.runs.get(userId, messageId);
    return run.conversationId === conversationId ? (run.userMessageId ?? undefined) : undefined;
  } catch (error) {
    if (error instanceof ConvoError && error.code === "NOT_FOUND") return undefined;
    throw error;
  }
}

export async function chatRoutes(app: App, { convo, streamTokens, shutdown, streams }: ChatRouteDeps): Promise<void> {
  const streamRun = async (request: FastifyRequest, reply: FastifyReply, userId: string, runId: string) => {
    const release = streams.acquire(userId);
    // The response closes when the stream ends or the client goes away.
    reply.raw.once("close", release);
    try {
      const events = await convo.runs.follow(userId, runId, { signal: requestSignal(request, shutdown) });
      return createUIMessageStreamResponse({ stream: uiChunkStream(runId, events), keepAliveMs: KEEP_ALIVE_MS });
    } catch (error) {
      release();
      throw error;
    }
  };

  app.post(
    "/v1/chat",
    {
      config: { sse: true },
      schema: {
        tags: ["chat"],
        summary: "AI SDK useChat: store the new user message, start a run, answer its events as a UI message stream",
        body: ChatBody,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const userId = await resourceUser(request, convo, "conversation", body.id);
      let runId: string;
      if (body.trigger === "regenerate-message") {
        const userMessageId = await regeneratedMessage(convo, userId, body.id, body.messageId);
        const { run } = await convo.runs.regenerate(userId, body.id, { userMessageId, model: body.model });
        runId = run.id;
      } else {
        const message = body.message ?? body.messages?.at(-1);
        if (!message) throw new BadRequestError("send `message` or a non-empty `messages`", "INVALID_REQUEST", { field: "body" });
        if (message.role !== "user") {
          throw new BadRequestError("the last message must be the user's new message", "INVALID_REQUEST", {
            field: "messages",
          });
        }
        const extra = message.parts.some((part) => part.type !== "text");
        const { run } = await convo.runs.start(userId, body.id, {
          content: textOf(message),
          clientMessageId: message.id,
          parts: extra ? message.parts : undefined,
          model: body.model,
        });
        runId = run.id;
      }
      return reply.send(await streamRun(request, reply, userId, runId));
    },
  );

  app.get(
    "/v1/chat/:id/stream",
    {
      config: { sse: true },
      schema: {
        tags: ["chat"],
        summary: "AI SDK useChat resume: 204 when nothing runs, else the running run replayed from its first event",
        params: IdParams,
      },
    },
    async (request, reply) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      const run = await runningRun(convo, userId, request.params.id);
      if (!run) return reply.status(204).send();
      return reply.send(await streamRun(request, reply, userId, run.id));
    },
  );

  app.post(
    "/v1/chat/:id/stop",
    {
      schema: {
        tags: ["chat"],
        summary: "Cancel the conversation's running run (the answer so far stays as its deltas)",
        params: IdParams,
        response: { 200: StopResponse, ...errorResponses },
      },
    },
    async (request) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      const run = await runningRun(convo, userId, request.params.id);
      if (!run) return { runId: null, status: null };
      const cancelled = await convo.runs.cancel(userId, run.id);
      return { runId: cancelled.id, status: cancelled.status };
    },
  );

  app.post(
    "/v1/stream-tokens",
    {
      schema: {
        tags: ["auth"],
        summary: "A 60-second token for one run's or one conversation's GET stream route (?access_token=), for EventSource",
        body: StreamTokenBody,
        response: { 201: StreamTokenResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const grant =
        "runId" in body
          ? { userId: await resourceUser(request, convo, "run", body.runId), scope: "run" as const, id: body.runId.toLowerCase() }
          : {
              userId: await resourceUser(request, convo, "conversation", body.conversationId),
              scope: "conversation" as const,
              id: body.conversationId.toLowerCase(),
            };
      // Proves the resource exists and is the caller's before anything is signed.
      if (grant.scope === "run") await convo.runs.get(grant.userId, grant.id);
      else await convo.conversations.get(grant.userId, grant.id);
      userScope(request.principal, grant.userId);
      const { token, expiresAt } = await streamTokens.mint(grant);
      return reply.status(201).send({ token, expiresAt: expiresAt.toISOString() });
    },
  );
}

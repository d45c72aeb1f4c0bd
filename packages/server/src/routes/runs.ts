/**
 * Background runs over HTTP: start (202 at once), read, list, poll or long-poll the
 * events, follow them as server-sent events (resumable with Last-Event-ID), cancel,
 * and follow a whole conversation live.
 */
import { BadRequestError, type Run } from "@convo/core";
import {
  ConversationStreamQuery,
  EventPage,
  EventsQuery,
  errorResponses,
  IdParams,
  ListRunsQuery,
  RunIdParams,
  RunList,
  RunRecord,
  StartRunRequest,
  StartRunResponse,
  StreamQuery,
} from "@convo/protocol";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { jsonify } from "../json.js";
import { type SseRegistry, streamSse } from "../sse.js";
import type { StreamLimiter } from "../stream-limits.js";
import { resourceUser } from "./owner.js";
import type { App, RouteDeps } from "./types.js";

export interface RunRouteDeps extends RouteDeps {
  sse: SseRegistry;
  /** Aborted when the server shuts down: long-polls answer at once. */
  shutdown: AbortSignal;
  /** Caps open streams and long-polls per user and per node. */
  streams: StreamLimiter;
  /** The socket inactivity timeout restored after a long-poll (which is exempt from it). */
  idleTimeoutMs: number;
}

export const runJson = (run: Run) =>
  jsonify({
    id: run.id,
    userId: run.userId,
    conversationId: run.conversationId,
    status: run.status,
    model: run.model,
    finalResponse: run.finalResponse,
    usage: run.usage,
    processingTimeMs: run.processingTimeMs,
    error: run.error,
    userMessageId: run.userMessageId,
    assistantMessageId: run.assistantMessageId,
    lastEventSeq: run.lastEventSeq,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    finishedAt: run.finishedAt,
  });

/** Aborted when the client goes away or the server shuts down. */
export function requestSignal(request: FastifyRequest, shutdown: AbortSignal): AbortSignal {
  const gone = new AbortController();
  request.raw.once("close", () => gone.abort());
  return AbortSignal.any([gone.signal, shutdown]);
}

/**
 * The seq to resume after: `Last-Event-ID` (what a reconnecting EventSource sends) or
 * the query's value. One rule for every stream: a header that is not a seq is a 400.
 */
function resumeAfter(request: FastifyRequest, after: number | undefined): number | undefined {
  const header = request.headers["last-event-id"];
  if (header === undefined || header === "") return after;
  if (typeof header !== "string" || !/^\d{1,10}$/.test(header) || Number(header) > 2 ** 31 - 1) {
    throw new BadRequestError("Last-Event-ID must be an event seq (a non-negative integer)", "INVALID_REQUEST", {
      field: "last-event-id",
    });
  }
  return Number(header);
}

export async function runRoutes(app: App, { convo, sse, shutdown, streams, idleTimeoutMs }: RunRouteDeps): Promise<void> {
  app.post(
    "/v1/conversations/:id/runs",
    {
      schema: {
        tags: ["runs"],
        summary: "Start a run: stores the user message and answers 202 at once; the model works in the background",
        params: IdParams,
        body: StartRunRequest,
        response: { 200: StartRunResponse, 202: StartRunResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      const { run, created } = await convo.runs.start(userId, request.params.id, request.body);
      const body = { runId: run.id, status: run.status, conversationId: run.conversationId, userMessageId: run.userMessageId };
      reply.header("location", `/v1/runs/${run.id}`);
      return reply.status(created ? 202 : 200).send(body);
    },
  );

  app.get(
    "/v1/runs/:runId",
    {
      schema: { tags: ["runs"], summary: "A run's record", params: RunIdParams, response: { 200: RunRecord, ...errorResponses } },
    },
    async (request) =>
      runJson(await convo.runs.get(await resourceUser(request, convo, "run", request.params.runId), request.params.runId)),
  );

  app.get(
    "/v1/conversations/:id/runs",
    {
      schema: {
        tags: ["runs"],
        summary: "A conversation's runs, newest first",
        params: IdParams,
        querystring: ListRunsQuery,
        response: { 200: RunList, ...errorResponses },
      },
    },
    async (request) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      const page = await convo.runs.list(userId, request.params.id, request.query);
      return { runs: page.items.map(runJson), hasMore: page.hasMore, nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/runs/:runId/events",
    {
      schema: {
        tags: ["runs"],
        summary: "Events after a seq; with wait=N, long-polls up to N seconds when nothing is new",
        params: RunIdParams,
        querystring: EventsQuery,
        response: { 200: EventPage, ...errorResponses },
      },
    },
    async (request) => {
      const userId = await resourceUser(request, convo, "run", request.params.runId);
      const { after, limit, wait } = request.query;
      if (!wait) {
        const page = await convo.runs.events(userId, request.params.runId, { after, limit });
        return { ...page, events: jsonify(page.events) };
      }
      const release = streams.acquire(userId);
      // A long-poll is silent by design: exempt it from the inactivity timeout while it waits.
      const socket = request.raw.socket;
      socket.setTimeout(0);
      try {
        const page = await convo.runs.waitForEvents(userId, request.params.runId, {
          after,
          limit,
          waitMs: wait * 1000,
          signal: requestSignal(request, shutdown),
        });
        return { ...page, events: jsonify(page.events) };
      } finally {
        socket.setTimeout(idleTimeoutMs);
        release();
      }
    },
  );

  app.get(
    "/v1/runs/:runId/stream",
    {
      config: { sse: true },
      schema: {
        tags: ["runs"],
        summary: "Server-sent events of a run (id = seq); resumes after Last-Event-ID; ends after the terminal event",
        params: RunIdParams,
        querystring: StreamQuery,
        response: { 204: z.null().describe("The run has ended and nothing is left after Last-Event-ID"), ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = await resourceUser(request, convo, "run", request.params.runId);
      const after = resumeAfter(request, request.query.after);
      // A finished run with nothing after Last-Event-ID answers 204: the one answer that
      // makes a browser's EventSource stop reconnecting (it would every 3 s for ever).
      // Throws NotFoundError before any byte is sent, so a wrong id is a plain 404.
      const tail = await convo.runs.events(userId, request.params.runId, { after, limit: 1 });
      if (tail.finished && tail.events.length === 0) return reply.status(204).send(null);
      const release = streams.acquire(userId);
      try {
        const events = await convo.runs.follow(userId, request.params.runId, { after, signal: requestSignal(request, shutdown) });
        await streamSse(request, reply, sse, async (stream) => {
          for await (const event of events) {
            if (!(await stream.send({ id: event.seq, event: event.type, data: JSON.stringify(jsonify(event)) }))) break;
          }
        });
      } finally {
        release();
      }
    },
  );

  app.post(
    "/v1/runs/:runId/cancel",
    {
      schema: {
        tags: ["runs"],
        summary: "Cancel a run (from any node); a finished run is answered as it is",
        params: RunIdParams,
        response: { 200: RunRecord, ...errorResponses },
      },
    },
    async (request) =>
      runJson(await convo.runs.cancel(await resourceUser(request, convo, "run", request.params.runId), request.params.runId)),
  );

  app.get(
    "/v1/conversations/:id/stream",
    {
      config: { sse: true },
      schema: {
        tags: ["runs"],
        summary:
          "Follow a conversation live: new messages (event `message`, id = message seq) and its runs' events (event `run_event`)",
        params: IdParams,
        querystring: ConversationStreamQuery,
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const userId = await resourceUser(request, convo, "conversation", request.params.id);
      const afterSeq = resumeAfter(request, request.query.afterSeq);
      const release = streams.acquire(userId);
      try {
        const items = await convo.runs.feed.follow(userId, request.params.id, {
          afterSeq,
          signal: requestSignal(request, shutdown),
        });
        await streamSse(request, reply, sse, async (stream) => {
          for await (const item of items) {
            const sent =
              item.type === "message"
                ? await stream.send({ id: item.message.seq, event: "message", data: JSON.stringify(jsonify(item.message)) })
                : await stream.send({ event: "run_event", data: JSON.stringify(jsonify(item.event)) });
            if (!sent) break;
          }
        });
      } finally {
        release();
      }
    },
  );
}

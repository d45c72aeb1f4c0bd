/**
 * Long-term memory over HTTP: full-text search, the NDJSON export and erasure of a
 * user. A user token may search, export and erase only its own user (another id
 * answers 404); an admin key any user.
 */
import { Readable } from "node:stream";
import { ErasureReceipt, errorResponses, SearchQuery, SearchResults, UserIdParams } from "@convo/protocol";
import { z } from "zod";
import { userScope } from "../auth/principal.js";
import { jsonify } from "../json.js";
import type { App, RouteDeps } from "./types.js";

export async function memoryRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  app.get(
    "/v1/users/:userId/search",
    {
      schema: {
        tags: ["memory"],
        summary: "Full-text search over the user's messages, titles and summaries (Russian and English stemming, emoji)",
        params: UserIdParams,
        querystring: SearchQuery,
        response: { 200: SearchResults, ...errorResponses },
      },
    },
    async (request) => {
      const userId = userScope(request.principal, request.params.userId);
      const { q, limit, cursor } = request.query;
      const page = await convo.search.query(userId, { q, limit, cursor });
      return jsonify({ results: page.items, hasMore: page.hasMore, nextCursor: page.nextCursor });
    },
  );

  app.get(
    "/v1/users/:userId/export",
    {
      schema: {
        tags: ["memory"],
        summary: "Everything Convo holds about the user, streamed as NDJSON (one {type, data} record per line)",
        params: UserIdParams,
        produces: ["application/x-ndjson"],
        response: { 200: z.string().describe("NDJSON"), ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = userScope(request.principal, request.params.userId);
      // Checked before the first byte, so an unknown user is a 404 and not a broken stream.
      await convo.users.get(userId);
      const lines = convo.exports.ndjson(userId);
      const stream = Readable.from(lines, { objectMode: false, highWaterMark: 64 * 1024 });
      // A failure mid-stream cannot change the status any more: it is logged and the
      // connection is cut, so the client sees a truncated export, not a complete one.
      stream.on("error", (error) => request.log.error({ err: error, userId }, "export failed mid-stream"));
      return (
        reply
          .type("application/x-ndjson; charset=utf-8")
          .header("content-disposition", `attachment; filename="convo-user-${userId}.ndjson"`)
          .header("cache-control", "no-store")
          // A stream is sent as it is (Fastify serializes only objects); the 200 schema documents it.
          .send(stream as never)
      );
    },
  );

  app.delete(
    "/v1/users/:userId",
    {
      schema: {
        tags: ["memory"],
        summary: "Erase the user and everything about them in one transaction; answers the rows removed per table",
        params: UserIdParams,
        response: { 200: ErasureReceipt, ...errorResponses },
      },
    },
    async (request) => jsonify(await convo.erasure.erase(userScope(request.principal, request.params.userId))),
  );
}

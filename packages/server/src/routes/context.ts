/** The context loader over HTTP. */

import { Context, ContextBody, errorResponses, UserIdParams } from "@convo/protocol";
import { userScope } from "../auth/principal.js";
import { jsonify } from "../json.js";
import type { App, RouteDeps } from "./types.js";

export async function contextRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  app.post(
    "/v1/users/:userId/context",
    {
      schema: {
        tags: ["context"],
        summary: "What the model needs: current conversation history, previous sessions, profile",
        params: UserIdParams,
        // Fastify validates a missing body as null.
        body: ContextBody.nullish(),
        response: { 200: Context, ...errorResponses },
      },
    },
    async (request) => {
      const userId = userScope(request.principal, request.params.userId);
      return jsonify(await convo.context.load(userId, request.body ?? {}));
    },
  );
}

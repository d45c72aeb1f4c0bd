/** Users: create (or find by externalId), list (admin), read, update. */

import { NotFoundError } from "@convo/core";
import { CreateUserBody, errorResponses, ListUsersQuery, PatchUserBody, User, UserIdParams, UserList } from "@convo/protocol";
import { userScope } from "../auth/principal.js";
import { jsonify } from "../json.js";
import type { App, RouteDeps } from "./types.js";

export async function userRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  app.post(
    "/v1/users",
    {
      schema: {
        tags: ["users"],
        summary: "Create a user (or answer the one with this externalId: 200)",
        body: CreateUserBody,
        response: { 200: User, 201: User, ...errorResponses },
      },
    },
    async (request, reply) => {
      // End users cannot create users: that is the backend's (admin key) job.
      if (request.principal.kind === "user") throw new NotFoundError("route");
      const { user, created } = await convo.users.create(request.body);
      return reply.status(created ? 201 : 200).send(jsonify(user));
    },
  );

  app.get(
    "/v1/users",
    {
      schema: {
        tags: ["users"],
        summary: "List all users, newest first (admin keys; the web app's user picker)",
        querystring: ListUsersQuery,
        response: { 200: UserList, ...errorResponses },
      },
    },
    async (request) => {
      if (request.principal.kind === "user") throw new NotFoundError("route");
      const page = await convo.users.list(request.query);
      return { users: jsonify(page.items), hasMore: page.hasMore, nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/users/:userId",
    { schema: { tags: ["users"], summary: "Read a user", params: UserIdParams, response: { 200: User, ...errorResponses } } },
    async (request) => jsonify(await convo.users.get(userScope(request.principal, request.params.userId))),
  );

  app.patch(
    "/v1/users/:userId",
    {
      schema: {
        tags: ["users"],
        summary: "Change a user's externalId, displayName or profile (replaced whole)",
        params: UserIdParams,
        body: PatchUserBody,
        response: { 200: User, ...errorResponses },
      },
    },
    async (request) => jsonify(await convo.users.update(userScope(request.principal, request.params.userId), request.body)),
  );
}

/**
 * The sticker assistant's dialogs (DESIGN.md §1.7) and their analytics. Dialog
 * analytics are operator reports across users: admin keys only (a user token gets 404).
 */
import { type Dialog as DialogRecord, NotFoundError } from "@convo/core";
import {
  ANALYTICS_REPORTS,
  AnalyticsQuery,
  CloseDialogBody,
  CreateDialogBody,
  Dialog,
  ExpiredDialogsResponse,
  errorResponses,
  ModelErrorResponse,
  PendingPhotoBody,
  ResolvePhotoBody,
  UpdateDialogBody,
  UserIdParams,
} from "@convo/protocol";
import { z } from "zod";
import { userScope } from "../auth/principal.js";
import { jsonify } from "../json.js";
import { resourceUser } from "./owner.js";
import type { App, RouteDeps } from "./types.js";

const DialogParams = z.strictObject({ id: z.uuid() });
const REPORTS = ["goals", "styles", "funnel", "statuses", "steps", "combos"] as const;

const send = (dialog: DialogRecord) => jsonify(dialog);

export async function dialogRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  const one = { 200: Dialog, ...errorResponses };

  app.post(
    "/v1/users/:userId/assistant-sessions",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary: "Start a dialog; the user's active one is first closed as abandoned (restart)",
        params: UserIdParams,
        body: CreateDialogBody,
        response: { 201: Dialog, ...errorResponses },
      },
    },
    async (request, reply) => {
      const userId = userScope(request.principal, request.params.userId);
      return reply.status(201).send(send(await convo.dialogs.create(userId, request.body ?? {})));
    },
  );

  app.get(
    "/v1/users/:userId/assistant-sessions/active",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary: "The user's active dialog (404 when none)",
        params: UserIdParams,
        response: one,
      },
    },
    async (request) => {
      const userId = userScope(request.principal, request.params.userId);
      const dialog = await convo.dialogs.getActive(userId);
      if (!dialog) throw new NotFoundError("active assistant session");
      return send(dialog);
    },
  );

  app.get(
    "/v1/assistant-sessions/:id",
    { schema: { tags: ["assistant dialogs"], summary: "A dialog", params: DialogParams, response: one } },
    async (request) =>
      send(await convo.dialogs.get(await resourceUser(request, convo, "dialog", request.params.id), request.params.id)),
  );

  app.patch(
    "/v1/assistant-sessions/:id",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary: "Set slots, step or flags and append chat lines (409 DIALOG_CLOSED once closed)",
        params: DialogParams,
        body: UpdateDialogBody,
        response: one,
      },
    },
    async (request) =>
      send(
        await convo.dialogs.update(
          await resourceUser(request, convo, "dialog", request.params.id),
          request.params.id,
          request.body,
        ),
      ),
  );

  app.post(
    "/v1/assistant-sessions/:id/close",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary: "Close with a status (completed sets confirmed and completedAt)",
        params: DialogParams,
        body: CloseDialogBody,
        response: one,
      },
    },
    async (request) =>
      send(
        await convo.dialogs.close(
          await resourceUser(request, convo, "dialog", request.params.id),
          request.params.id,
          request.body.status,
        ),
      ),
  );

  app.post(
    "/v1/assistant-sessions/:id/errors",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary: "Count a model error; the third in a row closes the dialog as error (fellBack: true)",
        params: DialogParams,
        response: { 200: ModelErrorResponse, ...errorResponses },
      },
    },
    async (request) => {
      const result = await convo.dialogs.recordModelError(
        await resourceUser(request, convo, "dialog", request.params.id),
        request.params.id,
      );
      return { dialog: send(result.dialog), fellBack: result.fellBack };
    },
  );

  app.post(
    "/v1/assistant-sessions/:id/successes",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary: "A model reply succeeded: the error count starts over",
        params: DialogParams,
        response: one,
      },
    },
    async (request) =>
      send(
        await convo.dialogs.recordModelSuccess(
          await resourceUser(request, convo, "dialog", request.params.id),
          request.params.id,
        ),
      ),
  );

  app.post(
    "/v1/assistant-sessions/:id/pending-photo",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary: "Photo swap: hold a new photo until the user keeps the old one or takes the new one",
        params: DialogParams,
        body: PendingPhotoBody,
        response: one,
      },
    },
    async (request) =>
      send(
        await convo.dialogs.setPendingPhoto(
          await resourceUser(request, convo, "dialog", request.params.id),
          request.params.id,
          request.body.fileId,
        ),
      ),
  );

  app.post(
    "/v1/assistant-sessions/:id/pending-photo/resolve",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary: "Photo swap: keep the old photo or take the pending one",
        params: DialogParams,
        body: ResolvePhotoBody,
        response: one,
      },
    },
    async (request) =>
      send(
        await convo.dialogs.resolvePendingPhoto(
          await resourceUser(request, convo, "dialog", request.params.id),
          request.params.id,
          request.body.choice,
        ),
      ),
  );

  app.post(
    "/v1/assistant-sessions/expire",
    {
      schema: {
        tags: ["assistant dialogs"],
        summary:
          "Abandon the dialogs idle past the threshold now and answer them with their owners (admin keys), so a bot can tell each user",
        response: { 200: ExpiredDialogsResponse, ...errorResponses },
      },
    },
    async (request) => {
      if (request.principal.kind === "user") throw new NotFoundError("route");
      return { expired: await convo.sweeps.expireDialogs() };
    },
  );

  for (const report of REPORTS) {
    app.get(
      `/v1/analytics/assistant/${report}`,
      {
        schema: {
          tags: ["analytics"],
          summary: `Dialog analytics: ${report} (admin keys; by env and created_at range)`,
          querystring: AnalyticsQuery,
          response: { 200: ANALYTICS_REPORTS[report], ...errorResponses },
        },
      },
      async (request) => {
        if (request.principal.kind === "user") throw new NotFoundError("route");
        const { limit, ...filter } = request.query;
        const analytics = convo.dialogAnalytics;
        switch (report) {
          case "goals":
            return { goals: await analytics.goals({ ...filter, limit }) };
          case "styles":
            return { styles: await analytics.styles(filter) };
          case "funnel":
            return { funnel: await analytics.funnel(filter) };
          case "statuses":
            return { statuses: await analytics.statuses(filter) };
          case "steps":
            return { steps: await analytics.steps(filter) };
          case "combos":
            return { combos: await analytics.combos({ ...filter, limit }) };
        }
      },
    );
  }
}

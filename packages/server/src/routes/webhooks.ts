/** Webhook subscriptions and the delivery log: admin keys only (a user token gets 404). */
import { NotFoundError } from "@convo/core";
import {
  CreateWebhookBody,
  errorResponses,
  IdParams,
  NewWebhookSubscription,
  PatchWebhookBody,
  WebhookDeliveriesQuery,
  WebhookDeliveryDetail,
  WebhookDeliveryList,
  WebhookList,
  WebhookSubscription,
} from "@convo/protocol";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { jsonify } from "../json.js";
import type { App, RouteDeps } from "./types.js";

const adminOnly = (request: FastifyRequest) => {
  if (request.principal.kind === "user") throw new NotFoundError("route");
};

export async function webhookRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  const tags = ["webhooks"];
  app.post(
    "/v1/webhooks",
    {
      schema: {
        tags,
        summary: "Subscribe a URL to events; answers the signing secret (shown once)",
        body: CreateWebhookBody,
        response: { 201: NewWebhookSubscription, ...errorResponses },
      },
    },
    async (request, reply) => {
      adminOnly(request);
      return reply.status(201).send(jsonify(await convo.webhooks.subscribe(request.body)));
    },
  );

  app.get(
    "/v1/webhooks",
    { schema: { tags, summary: "Webhook subscriptions", response: { 200: WebhookList, ...errorResponses } } },
    async (request) => {
      adminOnly(request);
      return jsonify({ webhooks: await convo.webhooks.subscriptions() });
    },
  );

  app.get(
    "/v1/webhooks/deliveries",
    {
      schema: {
        tags,
        summary: "The delivery log, newest first (by subscription, status or event)",
        querystring: WebhookDeliveriesQuery,
        response: { 200: WebhookDeliveryList, ...errorResponses },
      },
    },
    async (request) => {
      adminOnly(request);
      const page = await convo.webhooks.deliveries(request.query);
      return jsonify({ deliveries: page.items, hasMore: page.hasMore, nextCursor: page.nextCursor });
    },
  );

  app.get(
    "/v1/webhooks/deliveries/:id",
    {
      schema: {
        tags,
        summary: "One delivery: its payload and every attempt",
        params: IdParams,
        response: { 200: WebhookDeliveryDetail, ...errorResponses },
      },
    },
    async (request) => {
      adminOnly(request);
      return jsonify(await convo.webhooks.delivery(request.params.id));
    },
  );

  app.get(
    "/v1/webhooks/:id",
    {
      schema: { tags, summary: "A subscription", params: IdParams, response: { 200: WebhookSubscription, ...errorResponses } },
    },
    async (request) => {
      adminOnly(request);
      return jsonify(await convo.webhooks.subscription(request.params.id));
    },
  );

  app.patch(
    "/v1/webhooks/:id",
    {
      schema: {
        tags,
        summary: "Change a subscription's url, events, description or active flag",
        params: IdParams,
        body: PatchWebhookBody,
        response: { 200: WebhookSubscription, ...errorResponses },
      },
    },
    async (request) => {
      adminOnly(request);
      return jsonify(await convo.webhooks.updateSubscription(request.params.id, request.body));
    },
  );

  app.delete(
    "/v1/webhooks/:id",
    {
      schema: {
        tags,
        summary: "Delete a subscription and its deliveries",
        params: IdParams,
        response: { 204: z.null().describe("Deleted"), ...errorResponses },
      },
    },
    async (request, reply) => {
      adminOnly(request);
      await convo.webhooks.unsubscribe(request.params.id);
      return reply.status(204).send(null);
    },
  );
}

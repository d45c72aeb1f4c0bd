/**
 * Long-term memory on the wire: search, export and erasure, and webhooks (admin).
 */
import { z } from "zod";
import { IsoTime, QueryInt, Uuid } from "./common.js";

export const SearchQuery = z.strictObject({
  q: z.string().min(1).max(500).describe('Words (any form, Russian or English), "phrases", -exclusions, emoji'),
  limit: QueryInt(1, 100).optional().describe("Hits per page (default 20)"),
  cursor: z.string().max(600).optional().describe("nextCursor of the previous page"),
});

export const SearchHit = z.object({
  kind: z.enum(["message", "conversation"]).describe("A message, or a conversation whose title or summary matched"),
  conversationId: Uuid,
  conversationTitle: z.string().nullable(),
  messageId: Uuid.nullable(),
  seq: z.number().int().nullable(),
  role: z.string().nullable(),
  rank: z.number().describe("Relevance (ts_rank_cd); 0 for an emoji-only query"),
  snippet: z.string().describe("HTML-escaped text around the match; matches wrapped in <mark>…</mark>"),
  createdAt: IsoTime,
});

export const SearchResults = z.object({
  results: z.array(SearchHit),
  hasMore: z.boolean(),
  nextCursor: z.string().nullable(),
});

export const ErasureReceipt = z.object({
  userId: Uuid,
  erasedAt: IsoTime,
  tables: z.record(z.string(), z.number().int()).describe("Rows removed per table"),
  total: z.number().int(),
});

export const WEBHOOK_EVENTS = ["run.completed", "run.failed", "run.cancelled", "conversation.closed", "dialog.closed"] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENTS);

export const WebhookSubscription = z.object({
  id: Uuid,
  url: z.string(),
  events: z.array(WebhookEventType),
  description: z.string().nullable(),
  active: z.boolean(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});

export const NewWebhookSubscription = WebhookSubscription.extend({
  secret: z.string().describe("Standard Webhooks signing secret (whsec_…), shown only once"),
});

export const CreateWebhookBody = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  events: z.array(WebhookEventType).min(1).max(WEBHOOK_EVENTS.length),
  description: z.string().max(500).optional(),
  active: z.boolean().optional(),
});

export const PatchWebhookBody = CreateWebhookBody.partial();

export const WebhookList = z.object({ webhooks: z.array(WebhookSubscription) });

export const WebhookDelivery = z.object({
  id: Uuid,
  eventId: Uuid.describe("The webhook-id header; the same on every retry"),
  eventType: WebhookEventType,
  subscriptionId: Uuid,
  userId: Uuid,
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().int(),
  nextAttemptAt: IsoTime.nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: IsoTime,
  deliveredAt: IsoTime.nullable(),
});

export const WebhookDeliveryDetail = WebhookDelivery.extend({
  payload: z.object({ type: WebhookEventType, timestamp: IsoTime, data: z.record(z.string(), z.unknown()) }),
  log: z.array(
    z.object({
      attempt: z.number().int(),
      at: IsoTime,
      statusCode: z.number().int().nullable(),
      error: z.string().nullable(),
      durationMs: z.number().int(),
    }),
  ),
});

export const WebhookDeliveriesQuery = z.strictObject({
  subscriptionId: z.uuid().optional(),
  status: z.enum(["pending", "delivered", "failed"]).optional(),
  eventId: z.uuid().optional(),
  limit: QueryInt(1, 100).optional(),
  cursor: z.string().max(400).optional(),
});

export const WebhookDeliveryList = z.object({
  deliveries: z.array(WebhookDelivery),
  hasMore: z.boolean(),
  nextCursor: z.string().nullable(),
});

// The types of the schemas above, for handlers and clients.
export type SearchQuery = z.infer<typeof SearchQuery>;
export type SearchHit = z.infer<typeof SearchHit>;
export type SearchResults = z.infer<typeof SearchResults>;
export type ErasureReceipt = z.infer<typeof ErasureReceipt>;
export type WebhookEventType = z.infer<typeof WebhookEventType>;
export type WebhookSubscription = z.infer<typeof WebhookSubscription>;
export type NewWebhookSubscription = z.infer<typeof NewWebhookSubscription>;
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;
export type PatchWebhookBody = z.infer<typeof PatchWebhookBody>;
export type WebhookList = z.infer<typeof WebhookList>;
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;
export type WebhookDeliveryDetail = z.infer<typeof WebhookDeliveryDetail>;
export type WebhookDeliveriesQuery = z.infer<typeof WebhookDeliveriesQuery>;
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;

/** Webhooks: subscriptions, the outbox's events and their signed deliveries. */

/** The events a subscription can ask for. */
export const WEBHOOK_EVENT_TYPES = [
  "run.completed",
  "run.failed",
  "run.cancelled",
  "conversation.closed",
  "dialog.closed",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookSubscription {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A subscription as created: with its signing secret (`whsec_…`), shown this once. */
export interface NewWebhookSubscription extends WebhookSubscription {
  secret: string;
}

export interface WebhookSubscriptionInput {
  /** Where deliveries are POSTed (http or https). */
  url: string;
  events: WebhookEventType[];
  description?: string;
  active?: boolean;
}

export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookAttempt {
  attempt: number;
  at: Date;
  /** The receiver's HTTP status; null when no response came (refused, timed out). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookDelivery {
  id: string;
  /** The event's id: the `webhook-id` header, the same on every retry (receivers dedupe by it). */
  eventId: string;
  eventType: WebhookEventType;
  subscriptionId: string;
  userId: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

export interface WebhookDeliveryDetail extends WebhookDelivery {
  /** The body that is signed and sent. */
  payload: { type: WebhookEventType; timestamp: string; data: Record<string, unknown> };
  log: WebhookAttempt[];
}

/**
 * Retry delays after each failed attempt: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h,
 * 4 h, 8 h, 8 h — eleven attempts over about 23.7 hours, then the delivery is `failed`.
 */
export const DEFAULT_RETRY_SCHEDULE_MS = [
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000,
];

export interface WebhooksOptions {
  /** Delays between attempts (default DEFAULT_RETRY_SCHEDULE_MS). */
  retryScheduleMs?: number[];
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Deliveries sent at once by the delivering node (default 8). */
  concurrency?: number;
  /** Events fanned out and deliveries sent per batch (default 100). */
  batchSize?: number;
  /** Events and their delivery log are kept this long once nothing is pending (default 30 days). */
  retentionMs?: number;
  /** The HTTP client (default the global fetch); tests and proxies may replace it. */
  fetch?: typeof fetch;
}

/** What one delivery pass did. */
export interface WebhookPassResult {
  /** Outbox events fanned out to subscriptions. */
  dispatched: number;
  delivered: number;
  /** Attempts that failed and will be retried. */
  retrying: number;
  /** Deliveries that used up their retries. */
  failed: number;
  /** Old events removed with their delivery log (past the retention). */
  purged: number;
}

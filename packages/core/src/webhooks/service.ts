/**
 * Webhooks. Events are written to an outbox (`webhook_events`) by triggers in the same
 * transaction as the change they report, so an event exists exactly when its change
 * committed. One node at a time (an advisory lock) fans the outbox out to the
 * subscriptions and POSTs each delivery, signed per the Standard Webhooks
 * specification with the `standardwebhooks` package: `webhook-id` (the event id, the
 * same on every retry — receivers dedupe by it), `webhook-timestamp` and
 * `webhook-signature`. A delivery that fails is retried with backoff for about a day;
 * every attempt is logged. A receiver that is down loses nothing: the deliveries wait
 * in the table, across restarts of any node. Delivery is at least once: a node that
 * dies after the receiver answered but before the result was stored sends it again.
 * Events and their log are deleted 30 days (`retentionMs`) after nothing is pending.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { decodeCursor, keysetPage } from "../cursor.js";
import { NotFoundError, ValidationError } from "../errors.js";
import type { Store } from "../store.js";
import { assertText, assertUuid, intInRange } from "../validation.js";
import type { DueDelivery, SubscriptionRow } from "./repository.js";
import {
  DEFAULT_RETRY_SCHEDULE_MS,
  type NewWebhookSubscription,
  WEBHOOK_EVENT_TYPES,
  type WebhookDelivery,
  type WebhookDeliveryDetail,
  type WebhookDeliveryStatus,
  type WebhookEventType,
  type WebhookPassResult,
  type WebhookSubscription,
  type WebhookSubscriptionInput,
  type WebhooksOptions,
} from "./types.js";

const STATUSES: WebhookDeliveryStatus[] = ["pending", "delivered", "failed"];

function checkUrl(value: unknown): string {
  const text = assertText("url", value, { max: 2000 });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError("url must be an absolute http(s) URL", { field: "url" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ValidationError("url must be an absolute http(s) URL", { field: "url" });
  }
  return url.toString();
}

function checkEvents(value: unknown): WebhookEventType[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError("events must be a non-empty list", { field: "events" });
  }
  for (const e of value) {
    if (!(WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(e)) {
      throw new ValidationError(`events: unknown event type ${JSON.stringify(e)} (known: ${WEBHOOK_EVENT_TYPES.join(", ")})`, {
        field: "events",
      });
    }
  }
  return [...new Set(value as WebhookEventType[])];
}

const publicSubscription = ({ secret: _secret, ...rest }: SubscriptionRow): WebhookSubscription => rest;

/** The body a delivery carries (Standard Webhooks' recommended `{ type, timestamp, data }`). */
function payloadOf(d: { eventType: WebhookEventType; eventCreatedAt: Date; data: Record<string, unknown> }) {
  return { type: d.eventType, timestamp: d.eventCreatedAt.toISOString(), data: d.data };
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export class WebhooksService {
  readonly #schedule: number[];
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #batchSize: number;
  readonly #fetch: typeof fetch;
  readonly #retentionMs: number;

  constructor(
    private readonly store: Store,
    options: WebhooksOptions = {},
  ) {
    this.#schedule = options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#concurrency = options.concurrency ?? 8;
    this.#batchSize = options.batchSize ?? 100;
    this.#fetch = options.fetch ?? fetch;
    this.#retentionMs = options.retentionMs ?? 30 * 24 * 60 * 60 * 1000;
  }

  /**
   * Subscribes a URL to events; answers the subscription with its signing secret
   * (`whsec_…`, shown only here).
   *
   * @example
   * const { id, secret } = await convo.webhooks.subscribe({ url: "https://example.com/hooks", events: ["run.completed"] });
   */
  async subscribe(input: WebhookSubscriptionInput): Promise<NewWebhookSubscription> {
    const url = checkUrl(input.url);
    const events = checkEvents(input.events);
    const description = input.description === undefined ? null : assertText("description", input.description, { max: 500 });
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    return this.store.statement((uow) =>
      uow.webhooks.insertSubscription({
        url,
        events,
        secret,
        description,
        active: input.active ?? true,
        now: uow.now,
      }),
    );
  }

  async subscriptions(): Promise<WebhookSubscription[]> {
    return (await this.store.read((uow) => uow.webhooks.listSubscriptions())).map(publicSubscription);
  }

  async subscription(id: string): Promise<WebhookSubscription> {
    const sid = assertUuid("subscriptionId", id);
    const row = await this.store.read((uow) => uow.webhooks.findSubscription(sid));
    if (!row) throw new NotFoundError("webhook subscription", sid);
    return publicSubscription(row);
  }

  /** Changes a subscription's URL, events, description or active flag. */
  async updateSubscription(id: string, patch: Partial<WebhookSubscriptionInput>): Promise<WebhookSubscription> {
    const sid = assertUuid("subscriptionId", id);
    const checked = {
      url: patch.url === undefined ? undefined : checkUrl(patch.url),
      events: patch.events === undefined ? undefined : checkEvents(patch.events),
      description: patch.description === undefined ? undefined : assertText("description", patch.description, { max: 500 }),
      active: patch.active,
    };
    const row = await this.store.statement((uow) => uow.webhooks.updateSubscription(sid, checked, uow.now));
    if (!row) throw new NotFoundError("webhook subscription", sid);
    return publicSubscription(row);
  }

  /** Deletes a subscription with its deliveries (events stay for other subscriptions). */
  async unsubscribe(id: string): Promise<void> {
    const sid = assertUuid("subscriptionId", id);
    const gone = await this.store.statement((uow) => uow.webhooks.deleteSubscription(sid));
    if (!gone) throw new NotFoundError("webhook subscription", sid);
  }

  /** The delivery log: deliveries newest first, by subscription, status or event, paged by cursor. */
  async deliveries(
    options: { subscriptionId?: string; status?: WebhookDeliveryStatus; eventId?: string; limit?: number; cursor?: string } = {},
  ): Promise<{ items: WebhookDelivery[]; hasMore: boolean; nextCursor: string | null }> {
    const subscriptionId =
      options.subscriptionId === undefined ? undefined : assertUuid("subscriptionId", options.subscriptionId);
    const eventId = options.eventId === undefined ? undefined : assertUuid("eventId", options.eventId);
    if (options.status !== undefined && !STATUSES.includes(options.status)) {
      throw new ValidationError(`status must be one of ${STATUSES.join(", ")}`, { field: "status" });
    }
    const limit = intInRange("limit", options.limit, 1, 100, 20);
    const scope = `webhook-deliveries:${subscriptionId ?? ""}:${options.status ?? ""}:${eventId ?? ""}`;
    const after = options.cursor === undefined ? undefined : decodeCursor(scope, options.cursor, this.store.cursorSecret);
    const rows = await this.store.read((uow) =>
      uow.webhooks.listDeliveries(
        { subscriptionId, status: options.status, eventId },
        limit,
        after && { createdAt: after.updatedAt, id: after.id },
      ),
    );
    return keysetPage(rows, limit, scope, this.store.cursorSecret, (delivery) => delivery.createdAt);
  }

  /** One delivery with its payload and every attempt. */
  async delivery(id: string): Promise<WebhookDeliveryDetail> {
    const did = assertUuid("deliveryId", id);
    const row = await this.store.read((uow) => uow.webhooks.findDelivery(did));
    if (!row) throw new NotFoundError("webhook delivery", did);
    const { data, eventCreatedAt, ...rest } = row;
    return { ...rest, payload: payloadOf({ eventType: row.eventType, eventCreatedAt, data }) };
  }

  /**
   * One delivery pass on this node: fans the outbox out and sends what is due. Call it
   * under `runExclusive` (the server's scheduler does) so one node delivers at a time.
   */
  async deliverPending(now = this.store.clock(), maxBatches = 10): Promise<WebhookPassResult> {
    const result: WebhookPassResult = { dispatched: 0, delivered: 0, retrying: 0, failed: 0, purged: 0 };
    for (let i = 0; i < maxBatches; i++) {
      const n = await this.store.statement((uow) => uow.webhooks.dispatch(now, this.#batchSize));
      result.dispatched += n;
      if (n < this.#batchSize) break;
    }
    for (let i = 0; i < maxBatches; i++) {
      const due = await this.store.read((uow) => uow.webhooks.due(now, this.#batchSize));
      await mapLimit(due, this.#concurrency, async (d) => {
        const outcome = await this.#send(d, now);
        result[outcome]++;
      });
      if (due.length < this.#batchSize) break;
    }
    const before = new Date(now.getTime() - this.#retentionMs);
    for (let i = 0; i < maxBatches; i++) {
      const n = await this.store.statement((uow) => uow.webhooks.purge(before, this.#batchSize));
      result.purged += n;
      if (n < this.#batchSize) break;
    }
    return result;
  }

  /**
   * `deliverPending` holding the cluster-wide webhooks lock; answers undefined when
   * another node holds it (it is delivering).
   */
  async runExclusive(now = this.store.clock()): Promise<WebhookPassResult | undefined> {
    const { engine } = this.store;
    const outcome = await engine.withAdvisoryLock(`convo:webhooks:${engine.schema}`, () => this.deliverPending(now));
    return outcome?.value;
  }

  async #send(d: DueDelivery, now: Date): Promise<"delivered" | "retrying" | "failed"> {
    const body = JSON.stringify(payloadOf(d));
    // The signature's timestamp is the real time of sending: receivers check it
    // against their own clock to refuse replays.
    const sentAt = new Date();
    const signature = new Webhook(d.secret).sign(d.eventId, sentAt, body);
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await this.#fetch(d.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Convo-Webhooks/1",
          "webhook-id": d.eventId,
          "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      statusCode = response.status;
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    } catch (failure) {
      error = (failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure)).slice(0, 1000);
    }
    const durationMs = Math.round(performance.now() - started);
    const attemptNumber = d.attempts + 1;
    const delay = this.#schedule[attemptNumber - 1];
    const status: WebhookDeliveryStatus = error === null ? "delivered" : delay === undefined ? "failed" : "pending";
    const nextAttemptAt = status === "pending" ? new Date(now.getTime() + (delay as number)) : null;
    await this.store.statement((uow) =>
      uow.webhooks.recordAttempt(d, { at: now, statusCode, error, durationMs }, { status, nextAttemptAt }),
    );
    return status === "delivered" ? "delivered" : status === "failed" ? "failed" : "retrying";
  }
}

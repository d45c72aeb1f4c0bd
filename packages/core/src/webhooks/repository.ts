/** The webhooks SQL: subscriptions, fan-out of the outbox, due deliveries and the log. */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";
import type { WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookEventType, WebhookSubscription } from "./types.js";

/** A PostgreSQL array literal (`{"a","b"}`): Drizzle would expand a JS array into a list of parameters. */
const textArray = (values: string[]) => `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;

const date = (v: unknown) => (v == null ? null : v instanceof Date ? v : new Date(String(v)));

export interface SubscriptionRow extends WebhookSubscription {
  secret: string;
}

const subscription = (r: Record<string, unknown>): SubscriptionRow => ({
  id: r.id as string,
  url: r.url as string,
  events: r.events as WebhookEventType[],
  secret: r.secret as string,
  description: (r.description as string | null) ?? null,
  active: Boolean(r.active),
  createdAt: date(r.created_at) as Date,
  updatedAt: date(r.updated_at) as Date,
});

const delivery = (r: Record<string, unknown>): WebhookDelivery => ({
  id: r.id as string,
  eventId: r.event_id as string,
  eventType: r.type as WebhookEventType,
  subscriptionId: r.subscription_id as string,
  userId: r.user_id as string,
  status: r.status as WebhookDeliveryStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: r.status === "pending" ? date(r.next_attempt_at) : null,
  lastStatusCode: r.last_status_code == null ? null : Number(r.last_status_code),
  lastError: (r.last_error as string | null) ?? null,
  createdAt: date(r.created_at) as Date,
  deliveredAt: date(r.delivered_at),
});

/** A delivery to send now, with what it needs. */
export interface DueDelivery extends WebhookDelivery {
  url: string;
  secret: string;
  data: Record<string, unknown>;
  eventCreatedAt: Date;
}

export class WebhooksRepository {
  constructor(private readonly db: Db) {}

  async insertSubscription(values: {
    url: string;
    events: string[];
    secret: string;
    description: string | null;
    active: boolean;
    now: Date;
  }): Promise<SubscriptionRow> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`INSERT INTO webhook_subscriptions (url, events, secret, description, active, created_at, updated_at)
          VALUES (${values.url}, ${textArray(values.events)}::text[], ${values.secret}, ${values.description}, ${values.active},
                  ${values.now.toISOString()}::timestamptz, ${values.now.toISOString()}::timestamptz)
          RETURNING *`,
    );
    return subscription(rows[0] as Record<string, unknown>);
  }

  async listSubscriptions(): Promise<SubscriptionRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT * FROM webhook_subscriptions ORDER BY created_at, id`,
    );
    return rows.map(subscription);
  }

  async findSubscription(id: string): Promise<SubscriptionRow | undefined> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT * FROM webhook_subscriptions WHERE id = ${id}::uuid`,
    );
    return rows[0] ? subscription(rows[0]) : undefined;
  }

  async updateSubscription(
    id: string,
    patch: { url?: string; events?: string[]; description?: string | null; active?: boolean },
    now: Date,
  ): Promise<SubscriptionRow | undefined> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`UPDATE webhook_subscriptions SET
            url = COALESCE(${patch.url ?? null}, url),
            events = COALESCE(${patch.events ? textArray(patch.events) : null}::text[], events),
            description = CASE WHEN ${patch.description !== undefined} THEN ${patch.description ?? null} ELSE description END,
            active = COALESCE(${patch.active ?? null}::boolean, active),
            updated_at = ${now.toISOString()}::timestamptz
          WHERE id = ${id}::uuid RETURNING *`,
    );
    return rows[0] ? subscription(rows[0]) : undefined;
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const rows = await queryRows(this.db, sql`DELETE FROM webhook_subscriptions WHERE id = ${id}::uuid RETURNING id`);
    return rows.length > 0;
  }

  /**
   * Fans up to `limit` undispatched outbox events out to the active subscriptions that
   * want their type (one delivery each, due now) and marks them dispatched; answers
   * how many events. One statement, so a crash leaves either both or neither.
   */
  async dispatch(now: Date, limit: number): Promise<number> {
    const rows = await queryRows<{ n: number }>(
      this.db,
      sql`WITH picked AS MATERIALIZED (
            SELECT user_id, id, type FROM webhook_events WHERE dispatched_at IS NULL
            ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
          ), fanned AS (
            INSERT INTO webhook_deliveries (user_id, event_id, subscription_id, next_attempt_at, created_at)
            SELECT p.user_id, p.id, s.id, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
            FROM picked p JOIN webhook_subscriptions s ON s.active AND p.type = ANY (s.events)
            ON CONFLICT (user_id, event_id, subscription_id) DO NOTHING
            RETURNING 1
          ), marked AS (
            UPDATE webhook_events e SET dispatched_at = ${now.toISOString()}::timestamptz
            FROM picked p WHERE e.user_id = p.user_id AND e.id = p.id
            RETURNING 1
          )
          SELECT (SELECT count(*) FROM marked)::int AS n, (SELECT count(*) FROM fanned)::int AS deliveries`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Deletes up to `limit` events created before `before` that have been fanned out and
   * have no pending delivery, with their deliveries and attempts (cascade).
   */
  async purge(before: Date, limit: number): Promise<number> {
    const rows = await queryRows(
      this.db,
      sql`WITH picked AS MATERIALIZED (
            SELECT e.user_id, e.id FROM webhook_events e
            WHERE e.created_at < ${before.toISOString()}::timestamptz AND e.dispatched_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                              WHERE d.user_id = e.user_id AND d.event_id = e.id AND d.status = 'pending')
            LIMIT ${limit} FOR UPDATE SKIP LOCKED
          )
          DELETE FROM webhook_events t USING picked WHERE t.user_id = picked.user_id AND t.id = picked.id
          RETURNING t.id`,
    );
    return rows.length;
  }

  /** Pending deliveries due by `now`, oldest due first. */
  async due(now: Date, limit: number): Promise<DueDelivery[]> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT d.*, e.type, e.data, e.created_at AS event_created_at, s.url, s.secret
          FROM webhook_deliveries d
          JOIN webhook_events e ON e.user_id = d.user_id AND e.id = d.event_id
          JOIN webhook_subscriptions s ON s.id = d.subscription_id
          WHERE d.status = 'pending' AND d.next_attempt_at <= ${now.toISOString()}::timestamptz
          ORDER BY d.next_attempt_at LIMIT ${limit}`,
    );
    return rows.map((r) => ({
      ...delivery(r),
      url: r.url as string,
      secret: r.secret as string,
      data: r.data as Record<string, unknown>,
      eventCreatedAt: date(r.event_created_at) as Date,
    }));
  }

  /** Records one attempt and the delivery's new state. */
  async recordAttempt(
    d: { userId: string; id: string },
    attempt: Omit<WebhookAttempt, "attempt">,
    next: { status: WebhookDeliveryStatus; nextAttemptAt: Date | null },
  ): Promise<void> {
    const at = attempt.at.toISOString();
    await this.db.execute(
      sql`WITH bumped AS (
            UPDATE webhook_deliveries SET attempts = attempts + 1, status = ${next.status},
              next_attempt_at = COALESCE(${next.nextAttemptAt?.toISOString() ?? null}::timestamptz, next_attempt_at),
              last_status_code = ${attempt.statusCode}, last_error = ${attempt.error},
              delivered_at = CASE WHEN ${next.status} = 'delivered' THEN ${at}::timestamptz ELSE delivered_at END
            WHERE user_id = ${d.userId}::uuid AND id = ${d.id}::uuid
            RETURNING user_id, id, attempts
          )
          INSERT INTO webhook_attempts (user_id, delivery_id, attempt, at, status_code, error, duration_ms)
          SELECT user_id, id, attempts, ${at}::timestamptz, ${attempt.statusCode}, ${attempt.error}, ${attempt.durationMs}
          FROM bumped`,
    );
  }

  /** A page of deliveries, newest first, optionally of one subscription or status. */
  async listDeliveries(
    filter: { subscriptionId?: string; status?: WebhookDeliveryStatus; eventId?: string },
    limit: number,
    after?: { createdAt: string; id: string },
  ): Promise<WebhookDelivery[]> {
    const conditions = [sql`true`];
    if (filter.subscriptionId) conditions.push(sql`d.subscription_id = ${filter.subscriptionId}::uuid`);
    if (filter.status) conditions.push(sql`d.status = ${filter.status}`);
    if (filter.eventId) conditions.push(sql`d.event_id = ${filter.eventId}::uuid`);
    if (after) conditions.push(sql`(d.created_at, d.id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT d.*, e.type FROM webhook_deliveries d
          JOIN webhook_events e ON e.user_id = d.user_id AND e.id = d.event_id
          WHERE ${sql.join(conditions, sql` AND `)}
          ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit + 1}`,
    );
    return rows.map(delivery);
  }

  async findDelivery(
    id: string,
  ): Promise<(WebhookDelivery & { data: Record<string, unknown>; eventCreatedAt: Date; log: WebhookAttempt[] }) | undefined> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT d.*, e.type, e.data, e.created_at AS event_created_at FROM webhook_deliveries d
          JOIN webhook_events e ON e.user_id = d.user_id AND e.id = d.event_id
          WHERE d.id = ${id}::uuid`,
    );
    const r = rows[0];
    if (!r) return undefined;
    const log = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT * FROM webhook_attempts WHERE user_id = ${r.user_id as string}::uuid AND delivery_id = ${id}::uuid ORDER BY attempt`,
    );
    return {
      ...delivery(r),
      data: r.data as Record<string, unknown>,
      eventCreatedAt: date(r.event_created_at) as Date,
      log: log.map((a) => ({
        attempt: Number(a.attempt),
        at: date(a.at) as Date,
        statusCode: a.status_code == null ? null : Number(a.status_code),
        error: (a.error as string | null) ?? null,
        durationMs: Number(a.duration_ms),
      })),
    };
  }
}

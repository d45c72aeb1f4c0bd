/** SQL for conversations, their per-user totals and the lifecycle sweeps. */

import { and, eq, gt, isNotNull, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import { type Db, queryRows, queryText } from "../db/engine.js";
import { conversations, conversationTotals } from "../db/schema.js";
import type { CloseReason, StatusFilter, TitleSource } from "./types.js";
import {
  CONVERSATION_FIELDS,
  type ConversationFields,
  type ConversationRow,
  conversationFieldsFromRaw,
  conversationFromRaw,
} from "./types.js";

export interface ListFilter {
  env?: string;
  status?: StatusFilter;
  /** Conversations with activity after this instant count as active. */
  activeSince: Date;
}

const c = conversations;

const _date = (value: unknown) => (value == null ? null : value instanceof Date ? value : new Date(String(value)));

// The activity indexes are `DESC NULLS LAST` (Drizzle's default for `.desc()`), while a
// plain `ORDER BY … DESC` sorts nulls first: with that mismatch PostgreSQL cannot walk
// the index and sorts all of the user's conversations instead. The columns are NOT NULL,
// so ordering nulls last changes no result and lets every list read only its page.
const newestFirst = [sql`${c.updatedAt} DESC NULLS LAST`, sql`${c.id} DESC NULLS LAST`];

function filterConditions(userId: string, filter: ListFilter): SQL[] {
  const conditions: SQL[] = [eq(c.userId, userId)];
  if (filter.env !== undefined) conditions.push(eq(c.env, filter.env));
  if (filter.status === "active") {
    conditions.push(isNull(c.closedAt), gt(c.updatedAt, filter.activeSince));
  } else if (filter.status === "closed") {
    conditions.push(or(isNotNull(c.closedAt), lte(c.updatedAt, filter.activeSince)) as SQL);
  }
  return conditions;
}

export class ConversationsRepository {
  constructor(private readonly db: Db) {}

  /** Inserts a conversation and counts it in the user's totals. */
  async insert(values: {
    userId: string;
    externalId?: string | null;
    title?: string | null;
    titleSource?: TitleSource | null;
    env: string;
    now: Date;
  }): Promise<ConversationRow> {
    const [row] = await this.db
      .insert(c)
      .values({
        userId: values.userId,
        externalId: values.externalId ?? null,
        title: values.title ?? null,
        titleSource: values.title ? (values.titleSource ?? "user") : null,
        env: values.env,
        createdAt: values.now,
        updatedAt: values.now,
      })
      .returning();
    await this.#count(values.userId, values.env, 1);
    return row as ConversationRow;
  }

  /**
   * Inserts the conversation keyed `externalId` unless it exists (the source design's
   * `INSERT … ON CONFLICT DO NOTHING`); answers the stored row either way.
   */
  async insertOrGetByExternalId(values: {
    userId: string;
    externalId: string;
    env: string;
    now: Date;
  }): Promise<{ row: ConversationRow; created: boolean }> {
    const inserted = await this.db
      .insert(c)
      .values({ ...values, createdAt: values.now, updatedAt: values.now })
      .onConflictDoNothing({ target: [c.userId, c.externalId], where: sql`${c.externalId} IS NOT NULL` })
      .returning();
    if (inserted[0]) {
      await this.#count(values.userId, values.env, 1);
      return { row: inserted[0], created: true };
    }
    const existing = await this.db
      .select()
      .from(c)
      .where(and(eq(c.userId, values.userId), eq(c.externalId, values.externalId)))
      .limit(1);
    return { row: existing[0] as ConversationRow, created: false };
  }

  async #count(userId: string, env: string, delta: number): Promise<void> {
    await this.db
      .insert(conversationTotals)
      .values({ userId, env, total: delta })
      .onConflictDoUpdate({
        target: [conversationTotals.userId, conversationTotals.env],
        set: { total: sql`${conversationTotals.total} + ${delta}` },
      });
  }

  /**
   * The owner of a conversation, looked up by id alone. Only for admin requests that
   * name no user; everything else filters on `user_id` first.
   */
  async ownerOf(id: string): Promise<string | undefined> {
    const rows = await this.db.select({ userId: c.userId }).from(c).where(eq(c.id, id)).limit(1);
    return rows[0]?.userId;
  }

  async find(userId: string, id: string): Promise<ConversationRow | undefined> {
    const rows = await this.db
      .select()
      .from(c)
      .where(and(eq(c.userId, userId), eq(c.id, id)))
      .limit(1);
    return rows[0];
  }

  /**
   * The user's most recently active open conversation (in `env` when given); with
   * `forUpdate` its row stays locked until the transaction ends.
   */
  async findActive(
    userId: string,
    env: string | undefined,
    activeSince: Date,
    options: { forUpdate?: boolean } = {},
  ): Promise<ConversationRow | undefined> {
    // A `sql` template, not the select builder: this read is on the hot path of
    // append-to-current, and building a Drizzle select costs ~0.3 ms of CPU each time.
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT * FROM ${c}
          WHERE user_id = ${userId} AND closed_at IS NULL AND updated_at > ${activeSince.toISOString()}::timestamptz
            ${env === undefined ? sql`` : sql`AND env = ${env}`}
          ORDER BY updated_at DESC NULLS LAST, id DESC NULLS LAST LIMIT 1
          ${options.forUpdate ? sql`FOR UPDATE` : sql``}`,
    );
    return rows[0] ? conversationFromRaw(rows[0]) : undefined;
  }

  /** Closes every open conversation of the user in `env` (the "start a new one" flow). */
  async closeOpen(userId: string, env: string, reason: CloseReason, now: Date, activeSince?: Date): Promise<number> {
    const conditions = [eq(c.userId, userId), eq(c.env, env), isNull(c.closedAt)];
    if (activeSince) conditions.push(lte(c.updatedAt, activeSince));
    const rows = await this.db
      .update(c)
      .set({ closedAt: now, closeReason: reason })
      .where(and(...conditions))
      .returning({ id: c.id });
    return rows.length;
  }

  /** Closes one conversation; answers the row (unchanged when it was already closed). */
  async close(userId: string, id: string, reason: CloseReason, now: Date): Promise<ConversationRow | undefined> {
    const rows = await this.db
      .update(c)
      .set({
        closedAt: sql`COALESCE(${c.closedAt}, ${now.toISOString()}::timestamptz)`,
        closeReason: sql`COALESCE(${c.closeReason}, ${reason})`,
      })
      .where(and(eq(c.userId, userId), eq(c.id, id)))
      .returning();
    return rows[0];
  }

  /** Sets a title chosen by a person; it is never overwritten automatically afterwards. */
  async rename(userId: string, id: string, title: string): Promise<ConversationRow | undefined> {
    const rows = await this.db
      .update(c)
      .set({ title, titleSource: "user" })
      .where(and(eq(c.userId, userId), eq(c.id, id)))
      .returning();
    return rows[0];
  }

  /** Sets an automatic title unless a person has named the conversation. */
  async setAutoTitle(userId: string, id: string, title: string, source: Exclude<TitleSource, "user">): Promise<boolean> {
    const rows = await this.db
      .update(c)
      .set({ title, titleSource: source })
      .where(and(eq(c.userId, userId), eq(c.id, id), or(isNull(c.titleSource), sql`${c.titleSource} <> 'user'`)))
      .returning({ id: c.id });
    return rows.length > 0;
  }

  /**
   * Stores a summary given by the app. It covers the conversation as it stands, so an
   * automatic summary in flight does not overwrite it (its write checks `summary_seq`)
   * and a due one is no longer due; clearing it (null) makes the conversation due again
   * only on its next close.
   */
  async setSummary(userId: string, id: string, summary: string | null): Promise<boolean> {
    const rows = await this.db
      .update(c)
      .set(
        summary === null
          ? { summary, summarySeq: 0 }
          : { summary, summarySeq: sql`${c.lastSeq}`, summaryPendingAt: null, summaryWarning: null, summaryAttempts: 0 },
      )
      .where(and(eq(c.userId, userId), eq(c.id, id)))
      .returning({ id: c.id });
    return rows.length > 0;
  }

  /** Deletes a conversation (messages, state and runs cascade) and uncounts it. */
  async delete(userId: string, id: string): Promise<ConversationRow | undefined> {
    const rows = await this.db
      .delete(c)
      .where(and(eq(c.userId, userId), eq(c.id, id)))
      .returning();
    const row = rows[0];
    if (row) await this.#count(userId, row.env, -1);
    return row;
  }

  /**
   * One page, newest activity first, after the keyset position `after`. Reads one row
   * more than `limit` so the caller knows whether there is a next page.
   */
  async page(
    userId: string,
    filter: ListFilter,
    limit: number,
    after?: { updatedAt: string; id: string },
  ): Promise<ConversationRow[]> {
    const conditions = filterConditions(userId, filter);
    if (after) {
      conditions.push(sql`(${c.updatedAt}, ${c.id}) < (${after.updatedAt}::timestamptz, ${after.id}::uuid)`);
    }
    return this.db
      .select()
      .from(c)
      .where(and(...conditions))
      .orderBy(...newestFirst)
      .limit(limit + 1);
  }

  /**
   * One page of all the user's conversations (in `env` when given), newest activity
   * first, after `after`, with the user's total from the kept totals — one statement,
   * one round trip: the total rides on every row as a scalar subquery. Reads one row
   * more than `limit`. When the page is empty the total is read on its own (a cursor
   * past the end still has a total). Plain text on the driver (`queryText`): W3's read.
   */
  async pageWithTotal(
    userId: string,
    env: string | undefined,
    limit: number,
    after?: { updatedAt: string; id: string },
  ): Promise<{ rows: ConversationFields[]; total: number }> {
    // The limit is written into the text, not passed: with `LIMIT $n` the planner of a
    // prepared statement cannot tell 21 rows from thousands, prices its generic plan for
    // 10 % of the user's conversations and then plans every call anew (+25 % per page on
    // PGlite when one user holds most of the table). At most 100 variants (1…100).
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new RangeError(`page limit ${limit} is not 1…100`);
    const params: unknown[] = [userId];
    let where = "user_id = $1";
    let totals = "user_id = $1";
    if (env !== undefined) {
      params.push(env);
      where += ` AND env = $${params.length}`;
      totals += ` AND env = $${params.length}`;
    }
    if (after) {
      params.push(after.updatedAt, after.id);
      where += ` AND (updated_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    const total = `SELECT COALESCE(SUM(total), 0)::int FROM conversation_totals WHERE ${totals}`;
    const raw = await queryText<Record<string, unknown> & { total_: number }>(
      this.db,
      `SELECT ${CONVERSATION_FIELDS}, (${total}) AS total_ FROM conversations WHERE ${where}
       ORDER BY updated_at DESC NULLS LAST, id DESC NULLS LAST LIMIT ${limit + 1}`,
      params,
    );
    if (raw.length > 0) return { rows: raw.map(conversationFieldsFromRaw), total: Number(raw[0].total_) };
    const [only] = await queryText<{ total: number }>(
      this.db,
      `SELECT COALESCE(SUM(total), 0)::int AS total FROM conversation_totals WHERE ${totals}`,
      env === undefined ? [userId] : [userId, env],
    );
    return { rows: [], total: Number(only?.total ?? 0) };
  }

  /**
   * How many conversations match the filter, from the kept totals: the cost does not
   * grow with the user's history. Only open conversations are counted row by row,
   * and there are few of them (the sweep closes idle ones).
   */
  async total(userId: string, filter: ListFilter): Promise<number> {
    const all = async () => {
      const conditions = [eq(conversationTotals.userId, userId)];
      if (filter.env !== undefined) conditions.push(eq(conversationTotals.env, filter.env));
      const rows = await this.db
        .select({ total: sql<number>`COALESCE(SUM(${conversationTotals.total}), 0)`.mapWith(Number) })
        .from(conversationTotals)
        .where(and(...conditions));
      return rows[0]?.total ?? 0;
    };
    const active = async () => {
      const rows = await this.db
        .select({ n: sql<number>`count(*)`.mapWith(Number) })
        .from(c)
        .where(and(...filterConditions(userId, { ...filter, status: "active" })));
      return rows[0]?.n ?? 0;
    };
    if (filter.status === "active") return active();
    if (filter.status === "closed") return (await all()) - (await active());
    return all();
  }

  /** The user's conversations other than `excludeId`, newest activity first. */
  async recent(userId: string, limit: number, excludeId?: string): Promise<ConversationRow[]> {
    const conditions = [eq(c.userId, userId)];
    if (excludeId) conditions.push(sql`${c.id} <> ${excludeId}`);
    return this.db
      .select()
      .from(c)
      .where(and(...conditions))
      .orderBy(...newestFirst)
      .limit(limit);
  }

  // ---- lifecycle sweeps: maintenance across all users, in bounded batches ----

  // Each batch is picked in a MATERIALIZED CTE: an `IN (SELECT … LIMIT n)` subquery
  // may be re-executed by the planner and then touch more than `n` rows.

  /** Closes up to `batch` open conversations idle since before `idleBefore`. */
  async closeIdleBatch(idleBefore: Date, now: Date, batch: number): Promise<number> {
    const rows = await queryRows(
      this.db,
      sql`
      WITH picked AS MATERIALIZED (
        SELECT user_id, id FROM ${c}
        WHERE closed_at IS NULL AND updated_at <= ${idleBefore.toISOString()}::timestamptz
        ORDER BY updated_at LIMIT ${batch}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE ${c} AS t SET closed_at = ${now.toISOString()}::timestamptz, close_reason = 'inactivity'
      FROM picked
      WHERE t.user_id = picked.user_id AND t.id = picked.id
        AND t.closed_at IS NULL AND t.updated_at <= ${idleBefore.toISOString()}::timestamptz
      RETURNING t.id`,
    );
    return rows.length;
  }

  /** Deletes up to `batch` conversations closed before `closedBefore`, keeping totals right. */
  async deleteClosedBatch(closedBefore: Date, batch: number): Promise<number> {
    const rows = await queryRows<{ deleted: number }>(
      this.db,
      sql`
      WITH picked AS MATERIALIZED (
        SELECT user_id, id FROM ${c}
        WHERE closed_at IS NOT NULL AND closed_at < ${closedBefore.toISOString()}::timestamptz
        ORDER BY closed_at LIMIT ${batch}
        FOR UPDATE SKIP LOCKED
      ), gone AS (
        DELETE FROM ${c} AS t USING picked
        WHERE t.user_id = picked.user_id AND t.id = picked.id
        RETURNING t.user_id, t.env
      ), counts AS (
        SELECT user_id, env, count(*)::int AS n FROM gone GROUP BY user_id, env
      ), uncounted AS (
        UPDATE ${conversationTotals} AS t SET total = t.total - counts.n
        FROM counts WHERE t.user_id = counts.user_id AND t.env = counts.env
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM uncounted)::int AS groups`,
    );
    return Number(rows[0]?.deleted ?? 0);
  }

  /** Gives up to `batch` closed, untitled conversations a date title (`21 Nov 2026`). */
  async backfillDateTitlesBatch(batch: number): Promise<number> {
    const rows = await queryRows(
      this.db,
      sql`
      WITH picked AS MATERIALIZED (
        SELECT user_id, id FROM ${c}
        WHERE title IS NULL AND closed_at IS NOT NULL
        ORDER BY created_at LIMIT ${batch}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE ${c} AS t SET title = to_char(t.created_at AT TIME ZONE 'UTC', 'DD Mon YYYY'), title_source = 'date'
      FROM picked
      WHERE t.user_id = picked.user_id AND t.id = picked.id AND t.title IS NULL
      RETURNING t.id`,
    );
    return rows.length;
  }
}

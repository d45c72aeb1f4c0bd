/**
 * SQL for dialog analytics: the queries of the design (seeds/000, "Аналитика"), each
 * with optional `env` and `created_at` range conditions added to its WHERE clause and
 * nothing else changed, so the numbers equal what the design's SQL gives on the same
 * rows. The only additions are a tie-break on the grouped columns after `cnt DESC`,
 * so equal counts come back in a stable order.
 *
 * These are operator reports across all users: the one accepted exception to "every
 * query filters on user_id" (DESIGN.md §2). Under Citus they run as distributed
 * aggregates.
 *
 * The statements are pure functions of the filter (`dialogAnalyticsSql`), so tools
 * can run them under EXPLAIN; the repository executes them and normalises numbers:
 * count(*) is bigint (a string from a bare `pg` driver) and avg() is numeric (a
 * string on both drivers).
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";
import { assistantSessions } from "../db/schema.js";

/** A checked analytics filter: `created_at` in [from, to). */
export interface AnalyticsRange {
  env?: string;
  from?: Date;
  to?: Date;
}

const t = assistantSessions;

/** `WHERE` with the query's own conditions and the filter's, or nothing. */
function where(filter: AnalyticsRange, ...own: SQL[]): SQL {
  const parts = [...own];
  if (filter.env !== undefined) parts.push(sql`env = ${filter.env}`);
  if (filter.from !== undefined) parts.push(sql`created_at >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to !== undefined) parts.push(sql`created_at < ${filter.to.toISOString()}::timestamptz`);
  return parts.length === 0 ? sql`` : sql`WHERE ${sql.join(parts, sql` AND `)}`;
}

/** The analytics statements, as drizzle SQL (run them with `queryRows`, or under EXPLAIN). */
export const dialogAnalyticsSql = {
  /** Top goals: `goal, cnt`. */
  goals: (filter: AnalyticsRange, limit: number): SQL =>
    sql`SELECT goal, count(*) AS cnt FROM ${t} ${where(filter, sql`goal IS NOT NULL`)}
        GROUP BY goal ORDER BY cnt DESC, goal LIMIT ${limit}`,
  /** Top styles among confirmed dialogs (a NULL style is a group too, as in the design): `style, cnt`. */
  styles: (filter: AnalyticsRange): SQL =>
    sql`SELECT style, count(*) AS cnt FROM ${t} ${where(filter, sql`confirmed = true`)}
        GROUP BY style ORDER BY cnt DESC, style`,
  /** The step funnel, one row. */
  funnel: (filter: AnalyticsRange): SQL =>
    sql`SELECT
          count(*) AS started,
          count(*) FILTER (WHERE goal IS NOT NULL) AS set_goal,
          count(*) FILTER (WHERE style IS NOT NULL) AS chose_style,
          count(*) FILTER (WHERE emotion IS NOT NULL) AS chose_emotion,
          count(*) FILTER (WHERE pose IS NOT NULL) AS chose_pose,
          count(*) FILTER (WHERE confirmed) AS confirmed,
          count(*) FILTER (WHERE status = 'completed') AS completed
        FROM ${t} ${where(filter)}`,
  /** Average `current_step` of confirmed dialogs (and how many there are), one row. */
  steps: (filter: AnalyticsRange): SQL =>
    sql`SELECT avg(current_step) AS avg, count(*) AS n FROM ${t} ${where(filter, sql`confirmed = true`)}`,
  /** Dialogs per status: `status, count`. */
  statuses: (filter: AnalyticsRange): SQL => sql`SELECT status, count(*) FROM ${t} ${where(filter)} GROUP BY status`,
  /** Top style + emotion pairs among confirmed dialogs: `style, emotion, cnt`. */
  combos: (filter: AnalyticsRange, limit: number): SQL =>
    sql`SELECT style, emotion, count(*) AS cnt FROM ${t} ${where(filter, sql`confirmed = true`)}
        GROUP BY style, emotion ORDER BY cnt DESC, style, emotion LIMIT ${limit}`,
};

export interface FunnelRow {
  started: number;
  setGoal: number;
  choseStyle: number;
  choseEmotion: number;
  chosePose: number;
  confirmed: number;
  completed: number;
}

/** bigint and numeric arrive as strings from some drivers; null stays null. */
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export class AssistantAnalyticsRepository {
  constructor(private readonly db: Db) {}

  async goals(filter: AnalyticsRange, limit: number): Promise<{ goal: string; count: number }[]> {
    const rows = await queryRows<{ goal: string; cnt: unknown }>(this.db, dialogAnalyticsSql.goals(filter, limit));
    return rows.map((r) => ({ goal: r.goal, count: num(r.cnt) }));
  }

  async styles(filter: AnalyticsRange): Promise<{ style: string | null; count: number }[]> {
    const rows = await queryRows<{ style: string | null; cnt: unknown }>(this.db, dialogAnalyticsSql.styles(filter));
    return rows.map((r) => ({ style: r.style, count: num(r.cnt) }));
  }

  async funnel(filter: AnalyticsRange): Promise<FunnelRow> {
    const [r] = await queryRows<Record<string, unknown>>(this.db, dialogAnalyticsSql.funnel(filter));
    return {
      started: num(r?.started ?? 0),
      setGoal: num(r?.set_goal ?? 0),
      choseStyle: num(r?.chose_style ?? 0),
      choseEmotion: num(r?.chose_emotion ?? 0),
      chosePose: num(r?.chose_pose ?? 0),
      confirmed: num(r?.confirmed ?? 0),
      completed: num(r?.completed ?? 0),
    };
  }

  async steps(filter: AnalyticsRange): Promise<{ averageStep: number | null; confirmed: number }> {
    const [r] = await queryRows<{ avg: unknown; n: unknown }>(this.db, dialogAnalyticsSql.steps(filter));
    return { averageStep: numOrNull(r?.avg), confirmed: num(r?.n ?? 0) };
  }

  async statuses(filter: AnalyticsRange): Promise<{ status: string; count: number }[]> {
    const rows = await queryRows<{ status: string; count: unknown }>(this.db, dialogAnalyticsSql.statuses(filter));
    return rows.map((r) => ({ status: r.status, count: num(r.count) }));
  }

  async combos(
    filter: AnalyticsRange,
    limit: number,
  ): Promise<{ style: string | null; emotion: string | null; count: number }[]> {
    const rows = await queryRows<{ style: string | null; emotion: string | null; cnt: unknown }>(
      this.db,
      dialogAnalyticsSql.combos(filter, limit),
    );
    return rows.map((r) => ({ style: r.style, emotion: r.emotion, count: num(r.cnt) }));
  }
}

/**
 * Dialog analytics at 1,000,000 dialogs (issue 5): seeds `assistant_sessions` with
 * one bulk `generate_series` INSERT into a fresh schema, runs each analytics report
 * through the library (`convo.dialogAnalytics`) 20 times — over all dialogs, and as
 * a dashboard asks (one env, last 30 days) — and reports the p50. A full run also
 * writes each statement's EXPLAIN (ANALYZE, BUFFERS) to docs/analytics-plans.md.
 *
 * Convo ships a covering index for these reports (migration 0003). On PostgreSQL the
 * workload then drops it *in its own throwaway schema* and measures again, so what the
 * index buys is measured, not assumed.
 *
 * PGlite runs the same 1,000,000, which is feasible but heavy: it keeps the database
 * in one in-memory WebAssembly heap (about 2.7 GB resident at this size) and has one
 * backend, so the seed takes minutes and each full-table report about two seconds.
 * `BENCH_ANALYTICS_PGLITE_DIALOGS` shrinks PGlite's data set on a smaller machine.
 */
import { writeFileSync } from "node:fs";
import type { Convo } from "@convo/core";
import { dialogAnalyticsSql } from "@convo/core/internal";
import { sql } from "drizzle-orm";
import { type BenchEngine, selectedEngines, withEngine } from "../lib/engines.js";
import { progress } from "../lib/log.js";
import { percentile } from "../lib/stats.js";
import { count, markdownTable, ms } from "../lib/table.js";

export const id = "analytics";
export const title = "Dialog analytics at 1,000,000 dialogs";

const RUNS = 20;
const WARMUP = 2;
const FULL_DIALOGS = 1_000_000;
const QUICK_DIALOGS = 20_000;
/** PGlite's size in a full run (see the module comment). */
const PGLITE_DIALOGS = Number(process.env.BENCH_ANALYTICS_PGLITE_DIALOGS ?? FULL_DIALOGS);
const PLANS_FILE = new URL("../../docs/analytics-plans.md", import.meta.url);

const STYLES = ["anime", "pixel", "cartoon", "watercolor", "3d", "sketch", "pop-art", "chibi"];
const EMOTIONS = ["joy", "love", "anger", "surprise", "sadness", "cool"];
const POSES = ["wave", "thumbs-up", "heart", "facepalm", "dance"];

const pgArray = (values: string[]) => `ARRAY[${values.map((v) => `'${v}'`).join(",")}]`;

/**
 * One statement: `n` dialogs of `n / 10` users, created over the last 365 days in
 * insertion order (as real dialogs arrive, so the heap is ordered by time); 85%
 * prod, 10% test, 5% staging; 20% without a goal (500 distinct goals, skewed), 25%
 * without a style, 30% without an emotion, 35% without a pose; 40% confirmed; ~5%
 * of the first dialog of each user active (one active per user at most), the rest
 * completed, abandoned or error; a four-line chat each, so rows have a realistic width.
 */
export function seedScript(n: number): string {
  const users = Math.max(1, Math.floor(n / 10));
  return `
    INSERT INTO users (id, external_id)
    SELECT md5('u' || g)::uuid, 'bench-analytics-' || g FROM generate_series(0, ${users - 1}) g;

    INSERT INTO assistant_sessions (user_id, goal, style, emotion, pose, sticker_text, confirmed, current_step,
                                    messages, error_count, status, env, created_at, updated_at, completed_at)
    SELECT md5('u' || (g % ${users}))::uuid,
           CASE WHEN r1 < 0.2 THEN NULL ELSE 'goal ' || floor(power(r2, 3) * 500)::int END,
           CASE WHEN r3 < 0.25 THEN NULL ELSE (${pgArray(STYLES)})[1 + floor(power(r4, 1.5) * 8)::int] END,
           CASE WHEN r5 < 0.3 THEN NULL ELSE (${pgArray(EMOTIONS)})[1 + floor(r6 * 6)::int] END,
           CASE WHEN r7 < 0.35 THEN NULL ELSE (${pgArray(POSES)})[1 + floor(r8 * 5)::int] END,
           CASE WHEN r9 < 0.5 THEN NULL ELSE 'Hi!' END,
           confirmed,
           CASE WHEN confirmed THEN 5 + floor(r2 * 3)::int ELSE floor(r9 * 8)::int END,
           jsonb_build_array(
             jsonb_build_object('role', 'assistant', 'content', 'What is the sticker for?'),
             jsonb_build_object('role', 'user', 'content', 'A birthday sticker for my friend, something fun'),
             jsonb_build_object('role', 'assistant', 'content', 'Great! Which style do you like: anime, pixel, cartoon?'),
             jsonb_build_object('role', 'user', 'content', 'anime please')),
           CASE WHEN status = 'error' THEN 3 ELSE 0 END,
           status, env, created, created + interval '7 minutes',
           CASE WHEN status = 'completed' THEN created + interval '7 minutes' END
    FROM (
      SELECT *, now() - (${n} - g + r10)::float8 / ${n} * interval '365 days' AS created,
             CASE WHEN r11 < 0.85 THEN 'prod' WHEN r11 < 0.95 THEN 'test' ELSE 'staging' END AS env,
             CASE WHEN g <= ${users} AND r12 < 0.05 THEN 'active'
                  WHEN confirmed THEN CASE WHEN r12 < 0.9 THEN 'completed' ELSE 'abandoned' END
                  WHEN r12 < 0.3 THEN 'error' ELSE 'abandoned' END AS status
      FROM (
        SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6, random() r7,
               random() r8, random() r9, random() r10, random() r11, random() r12, random() < 0.4 AS confirmed
        FROM generate_series(1, ${n}) g
      ) raw
    ) s;

    ANALYZE users;
    ANALYZE assistant_sessions;`;
}

interface Case {
  label: string;
  filter: { env?: string; from?: Date; to?: Date };
}

const REPORTS = ["goals", "styles", "funnel", "steps", "statuses", "combos"] as const;
type Report = (typeof REPORTS)[number];

const runReport = (convo: Convo, report: Report, filter: Case["filter"]): Promise<unknown> =>
  convo.dialogAnalytics[report](filter);

const statementOf = (report: Report, filter: Case["filter"]) =>
  report === "goals" || report === "combos" ? dialogAnalyticsSql[report](filter, 20) : dialogAnalyticsSql[report](filter);

/**
 * The covering index migration 0003 ships for analytics: every report reads only these
 * narrow columns, filtered by env and a created_at range, while the heap rows also
 * carry the chat. Every dialog write already changes `updated_at`, which another index
 * holds, so updates are never HOT anyway and this index adds one entry per write.
 * The bench measures with and without it, to show what it buys.
 */
export const ANALYTICS_INDEX = `CREATE INDEX assistant_sessions_analytics_idx ON assistant_sessions (env, created_at)
  INCLUDE (goal, style, emotion, pose, confirmed, status, current_step)`;

/** `as shipped` = Convo's indexes (with the analytics index); `without` = that index dropped. */
type Variant = "as shipped" | "without analytics index";

interface Measured {
  engine: string;
  dialogs: number;
  seedMs: number;
  rows: { variant: Variant; report: Report; case: string; p50: number; max: number }[];
  plans: { variant: Variant; report: Report; case: string; plan: string }[];
}

async function measureReports(engine: BenchEngine, variant: Variant, withPlans: boolean, into: Measured): Promise<void> {
  const now = new Date();
  const cases: Case[] = [
    { label: "all dialogs", filter: {} },
    { label: "env=prod, last 30 days", filter: { env: "prod", from: new Date(now.getTime() - 30 * 86_400_000), to: now } },
  ];
  for (const c of cases) {
    for (const report of REPORTS) {
      for (let i = 0; i < WARMUP; i++) await runReport(engine.convo, report, c.filter);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        await runReport(engine.convo, report, c.filter);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 0.5);
      into.rows.push({ variant, report, case: c.label, p50, max: times[times.length - 1] ?? Number.NaN });
      if (withPlans) {
        const result = (await engine.convo.store.engine.db.execute(
          sql`EXPLAIN (ANALYZE, BUFFERS) ${statementOf(report, c.filter)}`,
        )) as unknown as { rows: Record<string, string>[] };
        into.plans.push({ variant, report, case: c.label, plan: result.rows.map((r) => r["QUERY PLAN"]).join("\n") });
      }
      progress(`  ${report} (${c.label}, ${variant}): p50 ${ms(p50)} ms`);
    }
  }
}

async function measure(engine: BenchEngine, dialogs: number, withPlans: boolean): Promise<Measured> {
  progress(`analytics on ${engine.label}: seeding ${count(dialogs)} dialogs (schema ${engine.schema})`);
  const seedStart = performance.now();
  await engine.raw.exec(seedScript(dialogs));
  await engine.raw.exec("VACUUM ANALYZE assistant_sessions"); // sets the visibility map: index-only scans become possible
  const measured: Measured = { engine: engine.label, dialogs, seedMs: performance.now() - seedStart, rows: [], plans: [] };
  await measureReports(engine, "as shipped", withPlans, measured);
  // The comparison runs on PostgreSQL, where such a table would live; PGlite's single
  // backend would only add minutes to the run.
  if (engine.name === "postgres") {
    progress(`analytics on ${engine.label}: dropping the analytics index to compare (bench schema only)`);
    await engine.raw.exec("DROP INDEX assistant_sessions_analytics_idx");
    await engine.raw.exec("VACUUM ANALYZE assistant_sessions"); // VACUUM cannot share a multi-statement script
    await measureReports(engine, "without analytics index", withPlans, measured);
  }
  return measured;
}

function plansDocument(results: Measured[]): string {
  const parts = [
    "# Dialog analytics: query plans",
    "",
    "Written by `npm run bench -- analytics` (full size). Each statement is the one `convo.dialogAnalytics` runs",
    "(`dialogAnalyticsSql` in packages/core/src/repositories/assistant-analytics.ts), under `EXPLAIN (ANALYZE, BUFFERS)`,",
    "on the data set described in docs/benchmarks.md (section `analytics`). Index advice: docs/dialogs.md, “Analytics”.",
    "",
    "`(as shipped)` = Convo's indexes, including the covering analytics index of migration 0003.",
    "`(without analytics index)` = the same after dropping that index in the benchmark's throwaway schema:",
    "",
    "```sql",
    `${ANALYTICS_INDEX};`,
    "```",
  ];
  for (const result of results) {
    parts.push("", `## ${result.engine}, ${count(result.dialogs)} dialogs`);
    for (const p of result.plans) parts.push("", `### ${p.report} — ${p.case} (${p.variant})`, "", "```", p.plan, "```");
  }
  return `${parts.join("\n")}\n`;
}

/** Runs the analytics workload; answers its Markdown section. */
export async function run(opts: { quick: boolean }): Promise<string> {
  const results: Measured[] = [];
  for (const name of selectedEngines()) {
    const dialogs = opts.quick ? QUICK_DIALOGS : name === "pglite" ? PGLITE_DIALOGS : FULL_DIALOGS;
    results.push(await withEngine(name, (engine) => measure(engine, dialogs, !opts.quick)));
  }
  if (!opts.quick && results.some((r) => r.plans.length > 0)) writeFileSync(PLANS_FILE, plansDocument(results));
  const table = markdownTable(
    ["engine", "dialogs", "indexes", "report", "filter", "p50 ms", "max ms"],
    results.flatMap((r) =>
      r.rows.map((row) => [r.engine, count(r.dialogs), row.variant, row.report, row.case, ms(row.p50), ms(row.max)]),
    ),
    ["left", "right", "left", "left", "left", "right", "right"],
  );
  const seeded = results.map((r) => `${r.engine} ${count(r.dialogs)} in ${(r.seedMs / 1000).toFixed(1)} s`).join(", ");
  return [
    `## ${title}`,
    "",
    `Each report of \`convo.dialogAnalytics\` (top goals, top styles among confirmed, the step funnel, average step of ` +
      `confirmed dialogs, status breakdown, top style + emotion pairs), run ${RUNS} times after ${WARMUP} warm-up calls, ` +
      `over all dialogs and as a dashboard asks (one env, the last 30 days — about 7% of the rows). One call is one SQL ` +
      `statement (the design's query with the filter added). "as shipped" = Convo's indexes, including the covering ` +
      `analytics index \`(env, created_at) INCLUDE (goal, style, emotion, pose, confirmed, status, current_step)\` ` +
      `(migration 0003); "without analytics index" = the same after dropping it in the benchmark's throwaway schema.`,
    "",
    table,
    "",
    `- Data: one \`generate_series\` INSERT — dialogs of users (10 per user) created over 365 days in time order, 85% prod; 20% ` +
      `without a goal (500 distinct goals, skewed), 25–35% without style/emotion/pose, 40% confirmed; statuses ` +
      `completed/abandoned/error/active. Seeded (with VACUUM ANALYZE): ${seeded}.`,
    `- PGlite keeps the whole database in one in-memory WebAssembly heap (about 2.7 GB resident at 1,000,000 dialogs) ` +
      `and has a single backend, so no parallel scans: feasible, but a deployment with that many dialogs belongs on ` +
      `PostgreSQL. \`BENCH_ANALYTICS_PGLITE_DIALOGS\` shrinks PGlite's data set on a smaller machine.`,
    opts.quick
      ? `- Quick run (${count(QUICK_DIALOGS)} dialogs): query plans not written.`
      : "- Query plans (EXPLAIN ANALYZE, BUFFERS) of every statement: docs/analytics-plans.md.",
  ].join("\n");
}

import { describe, expect, it } from "vitest";
import { type Convo, type DialogAnalyticsFilter, isConvoError } from "../src/index.js";
import { DESIGN_ANALYTICS_SQL } from "./support/design-analytics.js";
import { engines, openTestConvo, rawQuery } from "./support/engines.js";

/** Adds the filter's conditions to a design query's WHERE clause (or gives it one). */
function filtered(query: string, filter: DialogAnalyticsFilter): string {
  const parts: string[] = [];
  if (filter.env) parts.push(`env = '${filter.env}'`);
  if (filter.from) parts.push(`created_at >= '${filter.from}'`);
  if (filter.to) parts.push(`created_at < '${filter.to}'`);
  if (parts.length === 0) return query;
  const cond = parts.join(" AND ");
  // A space-preceded WHERE is the query's own (the funnel's are "FILTER (WHERE …").
  if (/\sWHERE /.test(query)) return query.replace(/(\s)WHERE /, `$1WHERE ${cond} AND `);
  if (query.includes("GROUP BY")) return query.replace("GROUP BY", `WHERE ${cond} GROUP BY`);
  return query.replace(/;$/, ` WHERE ${cond};`);
}

/** A small deterministic PRNG (mulberry32), so the data set is the same on every run. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GOALS = Array.from({ length: 30 }, (_, i) => `goal ${String(i).padStart(2, "0")}`);
const STYLES = ["anime", "pixel", "cartoon", "watercolor", "3d", "sketch", "pop-art", "chibi"];
const EMOTIONS = ["joy", "love", "anger", "surprise", "sadness", "cool"];
const POSES = ["wave", "thumbs-up", "heart", "facepalm", "dance"];

/** Seeds `n` dialogs (one user each) across envs, two months, statuses, with NULL slots. */
async function seed(convo: Convo, n: number) {
  const random = prng(42);
  const pick = <T>(list: T[], skew = 1) => list[Math.floor(random() ** skew * list.length)]!;
  const maybe = (p: number, value: string) => (random() < p ? "NULL" : `'${value}'`);
  await rawQuery(convo, `INSERT INTO users (external_id) SELECT 'a' || g FROM generate_series(1, ${n}) g`);
  const users = await rawQuery<{ id: string }>(convo, "SELECT id FROM users ORDER BY external_id");
  const start = Date.parse("2026-01-01T00:00:00Z");
  const values = users.map(({ id }) => {
    const r = random();
    const env = r < 0.7 ? "prod" : r < 0.9 ? "test" : "staging";
    const created = new Date(start + Math.floor(random() * 60 * 24 * 3600 * 1000)).toISOString();
    const confirmed = random() < 0.4;
    const s = random();
    const status = confirmed
      ? s < 0.8
        ? "completed"
        : s < 0.9
          ? "active"
          : "abandoned"
      : s < 0.1
        ? "active"
        : s < 0.7
          ? "abandoned"
          : "error";
    const step = confirmed ? 5 + Math.floor(random() * 3) : Math.floor(random() * 8);
    const completedAt = status === "completed" ? `'${created}'::timestamptz + interval '10 minutes'` : "NULL";
    return `('${id}', ${maybe(0.2, pick(GOALS, 2.5))}, ${maybe(0.25, pick(STYLES, 1.5))}, ${maybe(0.3, pick(EMOTIONS))}, ${maybe(
      0.35,
      pick(POSES),
    )}, ${confirmed}, ${step}, '${status}', '${env}', '${created}', '${created}', ${completedAt})`;
  });
  await rawQuery(
    convo,
    `INSERT INTO assistant_sessions (user_id, goal, style, emotion, pose, confirmed, current_step, status, env, created_at, updated_at, completed_at)
     VALUES ${values.join(",\n")}`,
  );
}

type Counted = { count: number };

/**
 * Top-N lists may order equal counts differently (the design's ORDER BY has no
 * tie-break), so: the same counts in the same order, and every entry we answer has
 * exactly the count the full grouping gives it.
 */
function expectSameTop<T extends Counted>(ours: T[], design: T[], full: T[], key: (row: T) => string) {
  expect(ours.map((r) => r.count)).toEqual(design.map((r) => r.count));
  const truth = new Map(full.map((r) => [key(r), r.count]));
  for (const row of ours) expect(truth.get(key(row)), key(row)).toBe(row.count);
  const floor = design[design.length - 1]?.count ?? 0;
  const above = (rows: T[]) => new Set(rows.filter((r) => r.count > floor).map(key));
  expect(above(ours)).toEqual(above(design));
}

const num = (v: unknown) => (v === null ? null : Number(v));

async function compareAll(convo: Convo, filter: DialogAnalyticsFilter) {
  const q = <T>(text: string) => rawQuery<T>(convo, filtered(text, filter));
  type Goal = { goal: string; count: number };
  type Style = { style: string | null; count: number };
  type Combo = { style: string | null; emotion: string | null; count: number };

  const designGoals = (await q<{ goal: string; cnt: unknown }>(DESIGN_ANALYTICS_SQL.goals)).map((r) => ({
    goal: r.goal,
    count: Number(r.cnt),
  }));
  const allGoals = (await q<{ goal: string; cnt: unknown }>(DESIGN_ANALYTICS_SQL.goals.replace(" LIMIT 20", ""))).map((r) => ({
    goal: r.goal,
    count: Number(r.cnt),
  }));
  expectSameTop<Goal>(await convo.dialogAnalytics.goals(filter), designGoals, allGoals, (r) => r.goal);

  const designStyles = (await q<{ style: string | null; cnt: unknown }>(DESIGN_ANALYTICS_SQL.styles)).map((r) => ({
    style: r.style,
    count: Number(r.cnt),
  }));
  expectSameTop<Style>(await convo.dialogAnalytics.styles(filter), designStyles, designStyles, (r) => String(r.style));
  expect((await convo.dialogAnalytics.styles(filter)).length).toBe(designStyles.length);

  const [f] = await q<Record<string, unknown>>(DESIGN_ANALYTICS_SQL.funnel);
  expect(await convo.dialogAnalytics.funnel(filter)).toEqual({
    started: num(f?.started),
    setGoal: num(f?.set_goal),
    choseStyle: num(f?.chose_style),
    choseEmotion: num(f?.chose_emotion),
    chosePose: num(f?.chose_pose),
    confirmed: num(f?.confirmed),
    completed: num(f?.completed),
  });

  const [avg] = await q<{ avg: unknown }>(DESIGN_ANALYTICS_SQL.steps);
  const steps = await convo.dialogAnalytics.steps(filter);
  expect(steps.averageStep).toBe(num(avg?.avg ?? null));
  expect(steps.confirmed).toBe(num(f?.confirmed));

  const statuses = await q<{ status: string; count: unknown }>(DESIGN_ANALYTICS_SQL.statuses);
  const expected = { active: 0, completed: 0, abandoned: 0, error: 0 } as Record<string, number>;
  for (const row of statuses) expected[row.status] = Number(row.count);
  expect(await convo.dialogAnalytics.statuses(filter)).toEqual(expected);

  const toCombo = (r: { style: string | null; emotion: string | null; cnt: unknown }) => ({
    style: r.style,
    emotion: r.emotion,
    count: Number(r.cnt),
  });
  const designCombos = (await q<{ style: string | null; emotion: string | null; cnt: unknown }>(DESIGN_ANALYTICS_SQL.combos)).map(
    toCombo,
  );
  const allCombos = (
    await q<{ style: string | null; emotion: string | null; cnt: unknown }>(DESIGN_ANALYTICS_SQL.combos.replace(" LIMIT 20", ""))
  ).map(toCombo);
  expectSameTop<Combo>(await convo.dialogAnalytics.combos(filter), designCombos, allCombos, (r) => `${r.style}|${r.emotion}`);

  const report = await convo.dialogAnalytics.report(filter);
  expect(report.funnel).toEqual(await convo.dialogAnalytics.funnel(filter));
  return { started: num(f?.started), designGoals, designCombos };
}

describe.each(engines)("dialog analytics on %s", (engine) => {
  it("equals the design's SQL on a generated data set, unfiltered and by env and time range", async () => {
    const convo = await openTestConvo(engine);
    await seed(convo, 400);
    const all = await compareAll(convo, {});
    expect(all.started).toBe(400);
    // The data set exercises what it should: LIMIT 20 cuts goals, NULL groups exist.
    expect(all.designGoals).toHaveLength(20);
    expect(all.designCombos.some((c) => c.style === null || c.emotion === null)).toBe(true);
    const filters: DialogAnalyticsFilter[] = [
      { env: "prod" },
      { env: "test" },
      { from: "2026-01-10T00:00:00.000Z", to: "2026-02-10T00:00:00.000Z" },
      { env: "prod", from: "2026-01-20T00:00:00.000Z", to: "2026-01-27T00:00:00.000Z" },
      { from: "2026-02-15T00:00:00.000Z" },
      { env: "staging", to: "2026-01-15T00:00:00.000Z" },
    ];
    for (const filter of filters) {
      const result = await compareAll(convo, filter);
      expect(result.started, JSON.stringify(filter)).toBeGreaterThan(0);
    }
    // Date objects filter the same as ISO strings.
    expect(
      await convo.dialogAnalytics.funnel({ from: new Date("2026-01-10T00:00:00Z"), to: new Date("2026-02-10T00:00:00Z") }),
    ).toEqual(await convo.dialogAnalytics.funnel({ from: "2026-01-10T00:00:00Z", to: "2026-02-10T00:00:00Z" }));
  });

  it("answers zeros and a null average where nothing matches", async () => {
    const convo = await openTestConvo(engine);
    await seed(convo, 20);
    const filter = { env: "nowhere" };
    expect(await convo.dialogAnalytics.funnel(filter)).toEqual({
      started: 0,
      setGoal: 0,
      choseStyle: 0,
      choseEmotion: 0,
      chosePose: 0,
      confirmed: 0,
      completed: 0,
    });
    expect(await convo.dialogAnalytics.steps(filter)).toEqual({ averageStep: null, confirmed: 0 });
    expect(await convo.dialogAnalytics.statuses(filter)).toEqual({ active: 0, completed: 0, abandoned: 0, error: 0 });
    expect(await convo.dialogAnalytics.goals(filter)).toEqual([]);
    expect((await convo.dialogAnalytics.goals({ limit: 3 })).length).toBe(3);
  });

  it("refuses a bad filter with 422", async () => {
    const convo = await openTestConvo(engine);
    const bad: DialogAnalyticsFilter[] = [
      { from: "yesterday" },
      { to: "2026-01-01T10:00:00" }, // no zone: ambiguous
      { from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" },
      { env: "pro d" },
    ];
    for (const filter of bad) {
      const error = await convo.dialogAnalytics.funnel(filter).catch((e: unknown) => e);
      expect(isConvoError(error) && error.status, JSON.stringify(filter)).toBe(422);
    }
    const limit = await convo.dialogAnalytics.goals({ limit: 0 }).catch((e: unknown) => e);
    expect(isConvoError(limit) && limit.code).toBe("VALIDATION_FAILED");
  });
});

/**
 * The query plans behind migration 0004 (issue 10), written to docs/performance.md by
 * hand from this script's output: the statements that used the two dropped indexes,
 * planned on the schema as shipped and on the same rows with the indexes put back.
 *
 *   NODE_OPTIONS=--conditions=@convo/source npx tsx bench/plans/lean-append.ts
 *
 * Data: 2,000 users × 5 conversations (closed but the newest, one an hour apart) plus
 * one user with 10,000, then ANALYZE — on PostgreSQL (BENCH_DATABASE_URL) and PGlite.
 */
import { type BenchEngine, closeSharedPglite, selectedEngines, withEngine } from "../lib/engines.js";
import { seedConversations, seedUsers } from "../lib/seed.js";

const DROPPED = [
  "CREATE INDEX conversations_user_env_activity_idx ON conversations (user_id, env, updated_at DESC, id DESC)",
  "CREATE INDEX conversations_open_idx ON conversations (updated_at) WHERE closed_at IS NULL",
];

async function plans(engine: BenchEngine): Promise<void> {
  const users = await seedUsers(engine.raw, "plan-", 2000);
  await seedConversations(engine.raw, users, { perUser: 5, newestAgeSeconds: 60, stepSeconds: 3600, closeOlder: true });
  const [heavy] = await seedUsers(engine.raw, "plan-heavy-", 1);
  await seedConversations(engine.raw, [heavy], { perUser: 10_000, newestAgeSeconds: 60, stepSeconds: 60, closeOlder: true });
  await engine.raw.exec("VACUUM ANALYZE");
  const now = new Date();
  const idle = new Date(now.getTime() - 30 * 60_000).toISOString();
  const statements: [string, string, unknown[]][] = [
    [
      "idle sweep (closeIdleBatch's pick)",
      `SELECT user_id, id FROM conversations WHERE closed_at IS NULL AND updated_at <= $1::timestamptz
       ORDER BY updated_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
      [idle],
    ],
    [
      "current conversation in env (findActive), user with 10,000",
      `SELECT * FROM conversations WHERE user_id = $1 AND closed_at IS NULL AND updated_at > $2::timestamptz AND env = 'prod'
       ORDER BY updated_at DESC NULLS LAST, id DESC NULLS LAST LIMIT 1 FOR UPDATE`,
      [heavy, idle],
    ],
    [
      "list page in env, user with 10,000",
      `SELECT * FROM conversations WHERE user_id = $1 AND env = 'prod'
       ORDER BY updated_at DESC NULLS LAST, id DESC NULLS LAST LIMIT 21`,
      [heavy],
    ],
  ];
  const explain = async (title: string, text: string, params: unknown[]) => {
    const rows = await engine.raw.query<Record<string, string>>(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${text}`,
      params,
    );
    console.log(`#### ${title}\n\n\`\`\`\n${rows.map((r) => Object.values(r)[0]).join("\n")}\n\`\`\`\n`);
  };
  console.log(`### ${engine.label}: as shipped (0004)\n`);
  for (const [title, text, params] of statements) await explain(title, text, params);
  for (const ddl of DROPPED) await engine.raw.exec(ddl);
  await engine.raw.exec("ANALYZE conversations");
  console.log(`### ${engine.label}: with the two dropped indexes put back (0003)\n`);
  for (const [title, text, params] of statements) await explain(title, text, params);
}

for (const name of selectedEngines()) await withEngine(name, plans);
await closeSharedPglite();

/**
 * What a NOTIFY inside a writing statement costs 16 concurrent writers, durable and
 * relaxed (`synchronous_commit` off): the cluster-wide notify lock is held until the
 * commit's WAL flush, which a relaxed commit does not wait for (docs/runs.md,
 * "Notifications across nodes"). Run: `npx tsx bench/plans/notify-lock.ts` (uses
 * BENCH_DATABASE_URL or the local test database; a throwaway table).
 */
import pg from "pg";

const url = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const pool = new pg.Pool({ connectionString: url, max: 16 });
const table = `notify_lock_${process.pid}`;
await pool.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, v text)`);
const relaxed = "r AS (SELECT set_config('synchronous_commit', 'off', true) AS v)";
const modes: Record<string, string> = {
  "durable insert": `INSERT INTO ${table} (v) VALUES ($1)`,
  "durable insert + NOTIFY in the statement": `WITH i AS (INSERT INTO ${table} (v) VALUES ($1) RETURNING id) SELECT pg_notify('${table}', i.id::text) FROM i`,
  "relaxed insert": `WITH ${relaxed}, i AS (INSERT INTO ${table} (v) VALUES ($1) RETURNING id) SELECT i.id FROM i, r`,
  "relaxed insert + NOTIFY in the statement": `WITH ${relaxed}, i AS (INSERT INTO ${table} (v) VALUES ($1) RETURNING id) SELECT pg_notify('${table}', i.id::text) FROM i, r`,
};
try {
  for (const round of [1, 2]) {
    for (const [name, text] of Object.entries(modes)) {
      const until = performance.now() + 3000;
      let n = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (performance.now() < until) {
            await pool.query({ name: `${table}_${Object.keys(modes).indexOf(name)}`, text, values: ["x"] });
            n++;
          }
        }),
      );
      console.log(`round ${round}: ${name.padEnd(42)} ${Math.round(n / 3)} commits/s`);
    }
  }
} finally {
  await pool.query(`DROP TABLE ${table}`);
  await pool.end();
}

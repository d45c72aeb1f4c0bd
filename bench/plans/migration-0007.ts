/**
 * How long migration 0007 takes on a filled database (docs/performance.md): a schema
 * migrated up to 0006, seeded as bench/plans/search-index.ts seeds (users × 10
 * conversations × 100 messages, all closed but one per user), then opened by Convo,
 * which applies 0007 — the key rebuilds and the search backfill — in one transaction.
 *
 *   NODE_OPTIONS=--conditions=@convo/source npx tsx bench/plans/migration-0007.ts [messages, default 1,000,000]
 *
 * PostgreSQL only (BENCH_DATABASE_URL); the schema is dropped afterwards.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConvo } from "@convo/core";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { databaseUrl } from "../lib/engines.js";

const total = Number(process.argv[2] ?? 1_000_000);
const schema = `bench_m7_${Date.now().toString(36)}`;
const migrations = new URL("../../packages/core/migrations/", import.meta.url).pathname;
const folder = mkdtempSync(join(tmpdir(), "convo-0006-"));
cpSync(migrations, folder, { recursive: true });
const journalPath = join(folder, "meta", "_journal.json");
const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
journal.entries = journal.entries.filter((e) => e.tag < "0007");
writeFileSync(journalPath, JSON.stringify(journal));

const client = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
await client.connect();
try {
  await client.query(`CREATE SCHEMA "${schema}"`);
  await migrate(drizzle({ client }), {
    migrationsFolder: folder,
    migrationsSchema: schema,
    migrationsTable: "__convo_migrations",
  });
  const users = Math.max(1, Math.round(total / 1000));
  await client.query(`INSERT INTO users (external_id) SELECT 'm7:' || g FROM generate_series(1, ${users}) g`);
  await client.query(`INSERT INTO conversations (user_id, title, message_count, last_seq, closed_at, close_reason)
    SELECT u.id, 'Разговор ' || c, 100, 100, CASE WHEN c > 1 THEN now() END, CASE WHEN c > 1 THEN 'app' END
    FROM users u, generate_series(1, 10) c`);
  await client.query(`INSERT INTO messages (user_id, conversation_id, seq, role, content)
    SELECT c.user_id, c.id, s, CASE WHEN s % 2 = 1 THEN 'user' ELSE 'assistant' END,
           (ARRAY['кот','кота','стикер','шляпа','пицца','running','cats','🐱'])[1 + (hashtext(c.id::text || s) & 7)]
             || ' слово ' || ((hashtext(c.id::text) & 65535) + s) % 997 || ' ' || md5(c.id::text || s)::text
    FROM conversations c, generate_series(1, 100) s`);
  await client.query("VACUUM ANALYZE");
  const [{ n }] = (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM messages")).rows;
  const t0 = performance.now();
  const convo = await openConvo({ databaseUrl, schema, poolSize: 2 });
  const ms = performance.now() - t0;
  const [after] = (
    await client.query<{ indexed: number; closed: number }>(
      `SELECT (SELECT count(*)::int FROM message_search) AS indexed,
              (SELECT count(*)::int FROM conversations WHERE closed_at IS NOT NULL AND search_seq = last_seq) AS closed`,
    )
  ).rows;
  await convo.close();
  console.log(
    `migration 0007 on ${n.toLocaleString("en")} messages: ${(ms / 1000).toFixed(1)} s ` +
      `(${after?.indexed.toLocaleString("en")} messages of ${after?.closed.toLocaleString("en")} closed conversations indexed)`,
  );
} finally {
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  rmSync(folder, { recursive: true, force: true });
}

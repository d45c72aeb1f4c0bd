/**
 * Long-term memory figures (issue 14), on PostgreSQL:
 *
 * - search p50/p99 for a user with 10,000 messages among 1,000,000 (seeded with
 *   generate_series: 990 other users × 1,000 messages, the user 10,000 in 100 conversations,
 *   all closed and put in the search index by `convo.search.indexPending()`, as the sweep would);
 * - export throughput (records/s, MB/s, peak RSS growth) of that user;
 * - context load with a token budget vs without, on a 100-message conversation.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/memory/measure.ts [queries, default 200]
 *
 * Uses (and drops afterwards) the schema `bench_memory`; prints Markdown.
 */
import { openConvo } from "@convo/core";
import { sql } from "drizzle-orm";

const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
if (!url) throw new Error("Set TEST_DATABASE_URL (PostgreSQL)");
const queries = Number(process.argv[2] ?? 200);
const schema = "bench_memory";

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};
const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);

const convo = await openConvo({ databaseUrl: url, schema, poolSize: 4 });
/** Raw SQL in the bench schema, answering its rows. */
const rows = async <T = Record<string, unknown>>(text: string): Promise<T[]> =>
  ((await convo.store.engine.db.execute(sql.raw(text))) as unknown as { rows: T[] }).rows;

// Words the generated messages are made of: Russian forms, English words, emoji.
const WORDS = [
  "кот",
  "кота",
  "котом",
  "коты",
  "собака",
  "собаку",
  "стикер",
  "стикеры",
  "шляпа",
  "пицца",
  "пиццу",
  "ананас",
  "привет",
  "спасибо",
  "фон",
  "синий",
  "аниме",
  "стиль",
  "running",
  "runs",
  "cats",
  "dog",
  "sticker",
  "hat",
  "pizza",
  "blue",
  "style",
  "weather",
  "meeting",
  "tomorrow",
  "🐱",
  "🍕",
  "🎩",
  "👍",
];
const wordArray = `ARRAY[${WORDS.map((w) => `'${w}'`).join(",")}]`;
const phrase = (seed: string) =>
  `(${wordArray})[1 + ((${seed}) * 7 % ${WORDS.length})] || ' ' || (${wordArray})[1 + ((${seed}) * 13 % ${WORDS.length})] || ' ' ||
   (${wordArray})[1 + ((${seed}) * 31 % ${WORDS.length})] || ' слово ' || (${seed}) % 997 || ' ' || (${wordArray})[1 + ((${seed}) * 3 % ${WORDS.length})]`;

const started = performance.now();
let seeded = false;
const [{ n: existing } = { n: 0 }] = await rows<{ n: number }>("SELECT count(*)::int AS n FROM messages");
if (Number(existing) < 1_000_000) {
  process.stderr.write("seeding 1,000,000 messages…\n");
  await rows("TRUNCATE users CASCADE");
  await rows(`INSERT INTO users (id, external_id) SELECT gen_random_uuid(), 'bench:' || g FROM generate_series(1, 991) g`);
  // 990 users × 10 conversations × 100 messages, and bench:1 (the measured user) × 100 × 100.
  await rows(`INSERT INTO conversations (user_id, id, title, env, message_count, last_seq, closed_at, close_reason)
      SELECT u.id, gen_random_uuid(), 'Разговор ' || c, 'prod', 100, 100, now(), 'app'
      FROM users u, generate_series(1, 100) c
      WHERE u.external_id = 'bench:1' OR c <= 10`);
  await rows(`INSERT INTO messages (user_id, conversation_id, seq, role, content)
      SELECT c.user_id, c.id, s, CASE WHEN s % 2 = 1 THEN 'user' ELSE 'assistant' END,
             ${phrase("(hashtext(c.id::text) & 65535) + s")}
      FROM conversations c, generate_series(1, 100) s`);
  seeded = true;
}
// The conversations are closed: the sweep's indexer would have put them in the search index.
const indexed = await convo.search.indexPending({ messagesPerBatch: 20_000, maxBatches: 100_000 });
if (seeded || indexed.messages > 0) await rows("VACUUM ANALYZE");
const seedMs = performance.now() - started;
const [counts] = await rows<{ messages: number; mine: number }>(`SELECT (SELECT count(*) FROM messages)::int AS messages,
  (SELECT count(*) FROM messages m JOIN users u ON u.id = m.user_id WHERE u.external_id = 'bench:1')::int AS mine`);
const [{ id: userId } = { id: "" }] = await rows<{ id: string }>(`SELECT id FROM users WHERE external_id = 'bench:1'`);

// Search: a mix of stems, phrases, English, emoji and rare words; warm-up first.
const QUERIES = ["кот", "котом", "стикер с котом", "pizza", "running", "🐱", "синий фон", '"слово 42"', "шляпа -кот", "weather"];
for (const q of QUERIES) await convo.search.query(userId, { q });
const searchTimes: number[] = [];
let hits = 0;
for (let i = 0; i < queries; i++) {
  const q = QUERIES[i % QUERIES.length] as string;
  const t0 = performance.now();
  const page = await convo.search.query(userId, { q, limit: 20 });
  searchTimes.push(performance.now() - t0);
  hits += page.items.length;
}
const pageTwo: number[] = [];
for (let i = 0; i < Math.min(queries, 50); i++) {
  const first = await convo.search.query(userId, { q: "кот", limit: 20 });
  const t0 = performance.now();
  await convo.search.query(userId, { q: "кот", limit: 20, cursor: first.nextCursor as string });
  pageTwo.push(performance.now() - t0);
}

// Export throughput and memory.
const exportRuns: { ms: number; records: number; bytes: number; rssGrowthMiB: number }[] = [];
for (let run = 0; run < 3; run++) {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  let records = 0;
  let bytes = 0;
  const t0 = performance.now();
  for await (const line of convo.exports.ndjson(userId)) {
    records++;
    bytes += Buffer.byteLength(line);
    if (records % 1000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  exportRuns.push({ ms: performance.now() - t0, records, bytes, rssGrowthMiB: (peak - rss0) / 2 ** 20 });
}

// Context: one of the user's conversations (100 messages), with and without a budget.
const [{ id: conversationId } = { id: "" }] = await rows<{ id: string }>(
  `SELECT id FROM conversations WHERE user_id = '${userId}' LIMIT 1`,
);
// The variants are interleaved (one load of each in turn) so drift on this shared
// machine weighs on all of them alike.
const variants = {
  plain: { conversationId },
  plain100: { conversationId, historyLimit: 100 },
  budget2000: { conversationId, tokenBudget: 2000, model: "openai:gpt-4o-mini", rollSummary: false },
  budget500: { conversationId, tokenBudget: 500, model: "openai:gpt-4o-mini", rollSummary: false },
} as const;
const times: Record<keyof typeof variants, number[]> = { plain: [], plain100: [], budget2000: [], budget500: [] };
for (let i = -20; i < queries; i++) {
  for (const [name, options] of Object.entries(variants) as [keyof typeof variants, (typeof variants)[keyof typeof variants]][]) {
    const t0 = performance.now();
    await convo.context.load(userId, options);
    if (i >= 0) times[name].push(performance.now() - t0);
  }
}
const { plain, plain100: plain200, budget2000: budgeted, budget500 } = times;
const budgetReceipt = (
  await convo.context.load(userId, { conversationId, tokenBudget: 2000, model: "openai:gpt-4o-mini", rollSummary: false })
).budget;

// The indexed branch of the search's match (search/repository.ts); the whole statement's
// plans are in docs/performance.md (bench/plans/search-index.ts).
const explain = (
  await rows(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT s.message_id FROM message_search s
    WHERE s.conversation_id = ANY (ARRAY(SELECT c.id FROM conversations c WHERE c.user_id = '${userId}'))
      AND s.user_id = '${userId}' AND s.document @@ websearch_to_tsquery('russian', 'кот')`)
).map((r) => Object.values(r)[0] as string);

const row = (label: string, xs: number[]) => `| ${label} | ${ms(quantile(xs, 0.5))} | ${ms(quantile(xs, 0.99))} |`;
const exp = exportRuns[exportRuns.length - 1] as (typeof exportRuns)[number];
console.log(`### Long-term memory on PostgreSQL (${new Date().toISOString().slice(0, 10)})

Data: ${counts?.messages.toLocaleString("en")} messages; the measured user has ${counts?.mine.toLocaleString("en")} in 100 conversations (${seeded ? `seeded and indexed for search in ${(seedMs / 1000).toFixed(0)} s` : "data already there"}).

| search (${queries} queries, limit 20) | p50 ms | p99 ms |
| --- | ---: | ---: |
${row("first page, mixed queries", searchTimes)}
${row('second page (cursor), "кот"', pageTwo)}

Hits per query: ${(hits / queries).toFixed(1)} on average.

| export of the user (NDJSON, batches of 500) | run 1 | run 2 | run 3 |
| --- | ---: | ---: | ---: |
| time, ms | ${exportRuns.map((r) => r.ms.toFixed(0)).join(" | ")} |
| records/s | ${exportRuns.map((r) => Math.round(r.records / (r.ms / 1000)).toLocaleString("en")).join(" | ")} |
| MB/s | ${exportRuns.map((r) => (r.bytes / 2 ** 20 / (r.ms / 1000)).toFixed(1)).join(" | ")} |
| RSS growth, MiB | ${exportRuns.map((r) => r.rssGrowthMiB.toFixed(1)).join(" | ")} |

${exp.records.toLocaleString("en")} records, ${(exp.bytes / 2 ** 20).toFixed(1)} MiB.

| context load (${queries} loads, 100-message conversation) | p50 ms | p99 ms |
| --- | ---: | ---: |
${row("no budget (last 20 messages)", plain)}
${row("no budget, historyLimit 100", plain200)}
${row("tokenBudget 2000, gpt-4o-mini (exact o200k count; everything fits)", budgeted)}
${row("tokenBudget 500, gpt-4o-mini (older messages left out)", budget500)}

Budgeted receipt: used ${budgetReceipt?.used} of ${budgetReceipt?.budget} tokens, ${budgetReceipt?.parts.filter((p) => p.included).length} parts in, ${budgetReceipt?.omitted.messages} messages left out.

Plan of the search's match (EXPLAIN ANALYZE, "кот"):

\`\`\`
${explain.join("\n")}
\`\`\``);

await convo.close();
if (process.env.BENCH_KEEP !== "1") {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/**
 * The query plans behind migration 0007 (issue 10: search off the append path, message
 * keys without user_id), written to docs/performance.md and docs/memory.md by hand
 * from this script's output: every statement on `messages` and `message_search`, the
 * search itself, and the search as it was (0006) on the same rows with the dropped
 * indexes put back.
 *
 *   NODE_OPTIONS=--conditions=@convo/source npx tsx bench/plans/search-index.ts [messages]
 *
 * Data (as bench/memory/measure.ts): other users × 10 closed conversations × 100
 * messages, and one user with 10,000 messages in 100 conversations, 99 closed and the
 * newest open — `messages` in all (default 1,000,000 on PostgreSQL, 110,000 on
 * PGlite). The closed ones are indexed by `convo.search.indexPending()` (timed), then
 * VACUUM ANALYZE. The SQL is the repositories' own, captured through a Drizzle logger
 * and run again under `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)`; statements that
 * write run in a transaction that is rolled back.
 */
import { type Db, UnitOfWork } from "@convo/core/internal";
import type { PGlite } from "@electric-sql/pglite";
import type { Logger } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import { type BenchEngine, closeSharedPglite, databaseUrl, selectedEngines, sharedPglite, withEngine } from "../lib/engines.js";
import { progress } from "../lib/log.js";

// The vocabulary of bench/memory/measure.ts: Russian forms, English words, emoji.
const WORDS = ["кот", "кота", "котом", "коты", "собака", "собаку", "стикер", "стикеры", "шляпа", "пицца", "пиццу", "ананас"]
  .concat(["привет", "спасибо", "фон", "синий", "аниме", "стиль", "running", "runs", "cats", "dog", "sticker", "hat"])
  .concat(["pizza", "blue", "style", "weather", "meeting", "tomorrow", "🐱", "🍕", "🎩", "👍"]);
const wordArray = `ARRAY[${WORDS.map((w) => `'${w}'`).join(",")}]`;
const pick = (seed: string, k: number) => `(${wordArray})[1 + ((${seed}) * ${k} % ${WORDS.length})]`;
const phrase = (seed: string) =>
  `${pick(seed, 7)} || ' ' || ${pick(seed, 13)} || ' ' || ${pick(seed, 31)} || ' слово ' || (${seed}) % 997 || ' ' || ${pick(seed, 3)}`;

async function seed(engine: BenchEngine, total: number): Promise<{ heavy: string; open: string; closed: string }> {
  const { raw } = engine;
  const others = Math.max(1, Math.round((total - 10_000) / 1000));
  await raw.exec(`INSERT INTO users (external_id) SELECT 'plan:' || g FROM generate_series(0, ${others}) g`);
  await raw.exec(`INSERT INTO conversations (user_id, title, env, message_count, last_seq, created_at, updated_at, closed_at, close_reason)
    SELECT u.id, 'Разговор ' || c, 'prod', 100, 100, now() - c * interval '1 hour', now() - c * interval '1 hour',
           CASE WHEN c > 1 THEN now() - c * interval '1 hour' END, CASE WHEN c > 1 THEN 'app' END
    FROM users u, generate_series(1, 100) c
    WHERE u.external_id = 'plan:0' OR c <= 10`);
  await raw.exec(`UPDATE conversations SET closed_at = now(), close_reason = 'app' WHERE closed_at IS NULL
    AND user_id <> (SELECT id FROM users WHERE external_id = 'plan:0')`);
  await raw.exec(`INSERT INTO messages (user_id, conversation_id, seq, role, content, created_at)
    SELECT c.user_id, c.id, s, CASE WHEN s % 2 = 1 THEN 'user' ELSE 'assistant' END,
           ${phrase("(hashtext(c.id::text) & 65535) + s")}, c.created_at + s * interval '1 second'
    FROM conversations c, generate_series(1, 100) s`);
  await raw.exec(
    `INSERT INTO conversation_totals (user_id, env, total) SELECT user_id, 'prod', count(*) FROM conversations GROUP BY user_id`,
  );
  const [heavy] = await raw.query<{ id: string }>("SELECT id FROM users WHERE external_id = 'plan:0'");
  const [open] = await raw.query<{ id: string }>("SELECT id FROM conversations WHERE user_id = $1 AND closed_at IS NULL", [
    heavy.id,
  ]);
  const [closed] = await raw.query<{ id: string }>(
    "SELECT id FROM conversations WHERE user_id = $1 AND closed_at IS NOT NULL ORDER BY id LIMIT 1 OFFSET 50",
    [heavy.id],
  );
  // One message with a client id (for findByClientId) and one rolling summary (noise).
  await raw.query("UPDATE messages SET client_message_id = 'tg-1' WHERE conversation_id = $1 AND seq = 99", [open.id]);
  await raw.query(
    `UPDATE messages SET noise = true, role = 'system', summary_from_seq = 1, summary_to_seq = 90
     WHERE conversation_id = $1 AND seq = 100`,
    [open.id],
  );
  return { heavy: heavy.id, open: open.id, closed: closed.id };
}

interface Captured {
  sql: string;
  params: unknown[];
}

/** A Drizzle handle on the engine's schema that records the SQL it runs. */
async function capturing(engine: BenchEngine, log: Captured[]): Promise<{ db: Db; close(): Promise<void> }> {
  const logger: Logger = { logQuery: (sql, params) => log.push({ sql, params }) };
  if (engine.name === "postgres") {
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: 2,
      options: `-c search_path=${engine.schema} -c TimeZone=UTC`,
    });
    return { db: drizzlePg({ client: pool, logger }) as unknown as Db, close: () => pool.end() };
  }
  const client: PGlite = await sharedPglite();
  return { db: drizzlePglite({ client, logger }) as unknown as Db, close: async () => {} };
}

class Rollback extends Error {}

async function plans(engine: BenchEngine, total: number): Promise<void> {
  const { raw, convo } = engine;
  const started = performance.now();
  const { heavy, open, closed } = await seed(engine, total);
  const [{ n }] = await raw.query<{ n: number }>("SELECT count(*)::int AS n FROM messages");
  progress(`${engine.label}: seeded ${n} messages in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const t0 = performance.now();
  const indexed = await convo.search.indexPending({ messagesPerBatch: 20_000, maxBatches: 100_000 });
  const indexMs = performance.now() - t0;
  await raw.exec("VACUUM ANALYZE");
  const sizes = await raw.query<Record<string, string>>(
    `SELECT pg_size_pretty(pg_total_relation_size('messages')) AS messages,
            pg_size_pretty(pg_total_relation_size('message_search')) AS message_search,
            (SELECT count(*) FROM message_search)::int AS search_rows`,
  );
  console.log(
    `## ${engine.label}: ${n.toLocaleString("en")} messages; the indexer wrote ${indexed.messages.toLocaleString("en")} rows ` +
      `(${indexed.conversations.toLocaleString("en")} conversations) in ${(indexMs / 1000).toFixed(1)} s ` +
      `(${Math.round(indexed.messages / (indexMs / 1000)).toLocaleString("en")} messages/s); sizes ${JSON.stringify(sizes[0])}\n`,
  );

  const log: Captured[] = [];
  const capture = await capturing(engine, log);
  const uow = (db: Db) => new UnitOfWork(db, convo.store, false);
  /** The statement `fn` runs, captured (`fn` runs for real, rolled back when `writes`). */
  const statement = async (fn: (u: UnitOfWork) => Promise<unknown>, writes = false): Promise<Captured> => {
    log.length = 0;
    if (!writes) await fn(uow(capture.db));
    else {
      await capture.db
        .transaction(async (tx) => {
          await fn(new UnitOfWork(tx as unknown as Db, convo.store, true));
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
    }
    const found = log.find((c) => !/^(begin|commit|rollback)/i.test(c.sql));
    if (!found) throw new Error("no statement captured");
    return found;
  };
  const explain = async (title: string, { sql, params }: Captured, writes = false) => {
    const text = `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${sql}`;
    const run = (q: typeof raw.query) => q<Record<string, string>>(text, params);
    const rows = writes
      ? await raw
          .transaction(async (q) => {
            throw Object.assign(new Rollback(), { rows: await run(q) });
          })
          .catch((error: unknown) => {
            if (error instanceof Rollback) return (error as Rollback & { rows: Record<string, string>[] }).rows;
            throw error;
          })
      : await run(raw.query);
    console.log(`#### ${title}\n\n\`\`\`\n${rows.map((r) => Object.values(r)[0]).join("\n")}\n\`\`\`\n`);
  };
  const last = {
    sql: "SELECT * FROM messages WHERE user_id = $1 AND conversation_id = $2 ORDER BY seq DESC LIMIT $3",
    params: [heavy, open, 20],
  };
  const [message] = await raw.query<{ id: string }>("SELECT id FROM messages WHERE conversation_id = $1 AND seq = 50", [open]);
  const search = (q: string) => statement((u) => u.search.page(heavy, parseQuery(q), 20));

  console.log(`### ${engine.label}: search, user with 10,000 messages (99 conversations indexed, 1 open)\n`);
  await explain('search "кот" (first page of 20)', await search("кот"));
  await explain('search "слово 42" (a rare phrase)', await search('"слово 42"'));
  await explain('search "🐱" (emoji only)', await search("🐱"));

  console.log(`### ${engine.label}: reads and writes of messages on the new keys\n`);
  await explain('context.searchHistory (literal, "🐱", 5 newest)', await statement((u) => u.history.search(heavy, "🐱", 5)));
  await explain("messages.last (20, open conversation)", last);
  await explain("messages.page (run feed, after seq 50)", await statement((u) => u.messages.page(heavy, open, 50, 100)));
  await explain("messages.find (by id)", await statement((u) => u.messages.find(heavy, message.id)));
  await explain("messages.lastUserMessage", await statement((u) => u.messages.lastUserMessage(heavy, open)));
  await explain("messages.findByClientId", await statement((u) => u.messages.findByClientId(heavy, "tg-1")));
  await explain("summaries.turns (rolling summary input)", await statement((u) => u.summaries.turns(heavy, open, 0, 90, 200)));
  await explain("summaries.latestRolling", await statement((u) => u.summaries.latestRolling(heavy, open)));
  await explain(
    "export: a batch of 500 messages after (conversation, 50)",
    await statement((u) => u.exports.batch("messages", ["conversation_id", "seq"], heavy, 500, [closed, 50])),
  );
  await explain("erasure: the user's messages", await statement((u) => u.erasure.deleteFrom("messages", heavy), true), true);
  await explain(
    "erasure: the user's search rows",
    await statement((u) => u.erasure.deleteFrom("message_search", heavy), true),
    true,
  );
  await explain(
    "trigger on a deleted conversation: its messages",
    {
      sql: "DELETE FROM messages WHERE user_id = $1 AND conversation_id = $2",
      params: [heavy, closed],
    },
    true,
  );
  await explain(
    "trigger on a deleted conversation: its search rows",
    {
      sql: "DELETE FROM message_search WHERE user_id = $1 AND conversation_id = $2",
      params: [heavy, closed],
    },
    true,
  );

  console.log(`### ${engine.label}: the indexer\n`);
  // Ten closed conversations made due again (their last 10 messages out of the index).
  await raw.exec(`WITH due AS (SELECT user_id, id FROM conversations WHERE closed_at IS NOT NULL ORDER BY id LIMIT 10),
      moved AS (UPDATE conversations c SET search_seq = c.last_seq - 10 FROM due WHERE c.user_id = due.user_id AND c.id = due.id)
    DELETE FROM message_search s USING due WHERE s.conversation_id = due.id AND s.seq > 90`);
  await raw.exec("ANALYZE conversations");
  const lock = await statement((u) => u.search.lockPending(500, 5000), true);
  await explain("indexer: lockPending (500 considered, 5,000 seqs)", lock, true);
  const keys = await raw.query<{ userId: string; id: string }>(
    `SELECT user_id AS "userId", id FROM conversations WHERE closed_at IS NOT NULL AND last_seq > search_seq`,
  );
  await explain(
    "indexer: indexLocked (10 conversations × 10 messages)",
    await statement((u) => u.search.indexLocked(keys, 5000), true),
    true,
  );
  await convo.search.indexPending();

  // As before 0007, on the same rows: the old search statement with the old indexes.
  console.log(`### ${engine.label}: search as before 0007 (same rows, old indexes put back)\n`);
  await raw.exec(`CREATE UNIQUE INDEX old_messages_user_id_id ON messages (user_id, id);
    CREATE INDEX old_messages_search_idx ON messages USING gin (to_tsvector('russian'::regconfig, content));
    CREATE INDEX old_conversations_search_idx ON conversations USING gin
      (to_tsvector('russian'::regconfig, coalesce(title, '') || ' ' || coalesce(summary, '')));
    ANALYZE messages; ANALYZE conversations;`);
  await explain('search "кот" as in 0006 (first page of 20)', { sql: OLD_SEARCH, params: [heavy, "кот"] });
  await capture.close();

  // Sizes: each relation on its own, the 0006 indexes (put back above) beside their 0007 counterparts.
  await raw.exec("CREATE UNIQUE INDEX old_messages_user_conversation_seq ON messages (user_id, conversation_id, seq)");
  const relations = await raw.query<{ relation: string; bytes: string }>(
    `SELECT c.relname AS relation, pg_relation_size(c.oid)::bigint AS bytes
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')
       AND (c.relname IN ('messages', 'message_search') OR c.oid IN (
         SELECT indexrelid FROM pg_index WHERE indrelid IN ('messages'::regclass, 'message_search'::regclass)))
     ORDER BY c.relname`,
  );
  const [toast] = await raw.query<{ bytes: string }>(
    "SELECT (pg_table_size('messages') - pg_relation_size('messages'))::bigint AS bytes",
  );
  const perRow = (bytes: string) => (Number(bytes) / n).toFixed(1);
  console.log(
    `#### sizes (${engine.label}), bytes per message of the ${n.toLocaleString("en")}\n\n| relation | MiB | B/message |\n| --- | ---: | ---: |\n` +
      [...relations, { relation: "messages (TOAST, FSM, VM)", bytes: toast.bytes }]
        .map((r) => `| ${r.relation} | ${(Number(r.bytes) / 2 ** 20).toFixed(1)} | ${perRow(r.bytes)} |`)
        .join("\n") +
      "\n",
  );
}

/** The query service's split of words and emoji (search/service.ts), for the captured statements. */
function parseQuery(q: string) {
  const symbols = [...new Set(q.match(/\p{Extended_Pictographic}/gu) ?? [])];
  const words = q.replace(/\p{Extended_Pictographic}/gu, " ").trim();
  return { words: /[\p{L}\p{N}]/u.test(words) ? words : undefined, symbols };
}

/** The search statement of 0006 (search/repository.ts before 0007) for a words-only query, first page of 20. */
const OLD_SEARCH = `
WITH hits AS (
  SELECT 'message'::text AS kind, m.id, m.conversation_id, m.seq, m.role, m.created_at AS at,
         ts_rank_cd(to_tsvector('russian'::regconfig, m.content), websearch_to_tsquery('russian'::regconfig, $2))::float8 AS rank
  FROM messages m
  WHERE m.user_id = $1::uuid AND m.noise = false
    AND to_tsvector('russian'::regconfig, m.content) @@ websearch_to_tsquery('russian'::regconfig, $2)
  UNION ALL
  SELECT 'conversation'::text, c.id, c.id, NULL::int, NULL::text, c.created_at,
         ts_rank_cd(to_tsvector('russian'::regconfig, coalesce(c.title, '') || ' ' || coalesce(c.summary, '')), websearch_to_tsquery('russian'::regconfig, $2))::float8
  FROM conversations c
  WHERE c.user_id = $1::uuid
    AND to_tsvector('russian'::regconfig, coalesce(c.title, '') || ' ' || coalesce(c.summary, '')) @@ websearch_to_tsquery('russian'::regconfig, $2)
), page AS (
  SELECT * FROM hits h ORDER BY h.rank DESC, h.at DESC, h.kind, h.id LIMIT 21
)
SELECT p.kind, p.id, p.conversation_id, c.title, p.seq, p.role, p.rank, p.at,
       CASE WHEN p.kind = 'message'
         THEN ts_headline('russian'::regconfig, m.content, websearch_to_tsquery('russian'::regconfig, $2), 'StartSel=<, StopSel=>, HighlightAll=true')
         ELSE ts_headline('russian'::regconfig, concat_ws(' — ', c.title, c.summary), websearch_to_tsquery('russian'::regconfig, $2), 'StartSel=<, StopSel=>, HighlightAll=true') END AS snippet
FROM page p
JOIN conversations c ON c.user_id = $1::uuid AND c.id = p.conversation_id
LEFT JOIN messages m ON p.kind = 'message' AND m.user_id = $1::uuid AND m.id = p.id
ORDER BY p.rank DESC, p.at DESC, p.kind, p.id`;

const wanted = process.argv[2] ? Number(process.argv[2]) : undefined;
for (const name of selectedEngines()) {
  await withEngine(name, (engine) => plans(engine, wanted ?? (name === "postgres" ? 1_000_000 : 110_000)));
}
await closeSharedPglite();

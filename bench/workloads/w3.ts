/**
 * W3 (DESIGN.md §5): one page of 20 conversations with counts for a user with 500
 * conversations, and again with 10,000 — the page must cost the same however long
 * the user's history. Convo: `convo.conversations.list` (first page, and a page deep
 * in the list by cursor); raw: the same keyset query plus the kept-totals read.
 */
import { compare, interleave } from "../lib/compare.js";
import { type BenchEngine, forEachEngine } from "../lib/engines.js";
import { progress } from "../lib/log.js";
import { planSummary } from "../lib/plan.js";
import { type ComparisonRow, comparisonTable } from "../lib/report.js";
import { seedConversations, seedMessages, seedUsers } from "../lib/seed.js";
import { count, markdownTable, ms, ratio } from "../lib/table.js";
import { mastraPage, openMastra, seedMastra } from "../reference/mastra.js";
import { minimalPage, openMinimal, seedMinimal } from "../reference/minimal.js";
import { conversationPageQuery, type RawPosition, rawConversationPage } from "../reference/reads.js";

export const id = "w3";
export const title = "W3 — one page of 20 conversations with counts";

interface Sizes {
  small: number;
  large: number;
  messagesPerConversation: number;
  pages: number;
  warmup: number;
  /**
   * Pages per contender in the comparison with the reference and Mastra, at c=1 and
   * c=16, and their warm-up: as many as W2's reads, since a short batch at c=16 (160
   * pages, ~50 ms) measured the machine's noise as much as the page.
   */
  compared: [c1: number, c16: number, warmup: number];
}

const FULL: Sizes = {
  small: 500,
  large: 10_000,
  messagesPerConversation: 4,
  pages: 800,
  warmup: 100,
  compared: [4000, 8000, 300],
};
const QUICK: Sizes = { small: 200, large: 4000, messagesPerConversation: 1, pages: 100, warmup: 20, compared: [100, 200, 20] };
const LIMIT = 20;
/** How deep the "deep page" starts, as a share of the user's conversations. */
const DEPTH = 0.9;

/** One user of W3: their conversation count and where the deep page starts. */
interface Subject {
  userId: string;
  size: number;
  cursor: string;
  position: RawPosition;
}

/** Walks the user's list with the library (100 per page) to the deep position. */
async function deepPosition(engine: BenchEngine, userId: string, size: number): Promise<Subject> {
  const pages = Math.floor((size * DEPTH) / 100);
  let cursor: string | undefined;
  let position: RawPosition | undefined;
  for (let p = 0; p < pages; p++) {
    const page = await engine.convo.conversations.list(userId, { limit: 100, cursor });
    const last = page.items[page.items.length - 1];
    if (!page.nextCursor || !last) throw new Error("the list ended before the deep page");
    cursor = page.nextCursor;
    position = { updatedAt: last.updatedAt.toISOString(), id: last.id };
  }
  if (!cursor || !position) throw new Error(`no deep page for ${size} conversations`);
  return { userId, size, cursor, position };
}

async function seed(engine: BenchEngine, sizes: Sizes): Promise<{ small: Subject; large: Subject }> {
  const started = Date.now();
  const [small, large] = await seedUsers(engine.raw, "w3-", 2);
  // A long history: one conversation a minute back in time, all but the newest closed.
  const options = { newestAgeSeconds: 60, stepSeconds: 60, closeOlder: true };
  const [smallConversations] = await seedConversations(engine.raw, [small], { ...options, perUser: sizes.small });
  const [largeConversations] = await seedConversations(engine.raw, [large], { ...options, perUser: sizes.large });
  await seedMessages(engine.raw, [...smallConversations, ...largeConversations], sizes.messagesPerConversation);
  await engine.raw.exec("ANALYZE");
  progress(
    `W3 on ${engine.label}: seeded ${count(sizes.small + sizes.large)} conversations in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { small: await deepPosition(engine, small, sizes.small), large: await deepPosition(engine, large, sizes.large) };
}

/** Throws unless a page is full and carries the user's total: a wrong answer is not a result. */
function expectPage(page: { items: unknown[]; total: number }, size: number): void {
  if (page.items.length !== LIMIT || page.total !== size) {
    throw new Error(`expected ${LIMIT} of ${size}, got ${page.items.length} of ${page.total}`);
  }
}

interface PageResult {
  rows: ComparisonRow[];
  flat?: { engine: string; page: string; convo: [number, number]; raw: [number, number]; plan: string };
}

async function measurePage(engine: BenchEngine, sizes: Sizes, subjects: Subject[], deep: boolean): Promise<PageResult> {
  const [small, large] = subjects;
  const convoOp = (s: Subject) => async () => {
    expectPage(await engine.convo.conversations.list(s.userId, { limit: LIMIT, cursor: deep ? s.cursor : undefined }), s.size);
  };
  const rawOp = (s: Subject) => async () => {
    expectPage(await rawConversationPage(engine.raw.query, s.userId, LIMIT, deep ? s.position : undefined), s.size);
  };
  const page = deep ? `page at ${Math.round(DEPTH * 100)}% by cursor` : "first page";
  const statement = conversationPageQuery(large.userId, LIMIT + 1, deep ? large.position : undefined);
  const plan = await planSummary(engine.raw.query, statement.text, statement.params);
  // All four interleaved, so the 500 ÷ 10,000 ratio is not skewed by when each ran.
  const stats = await interleave({
    label: `${engine.label} W3 ${page}`,
    count: sizes.pages,
    concurrency: 1,
    warmupCount: sizes.warmup,
    contenders: {
      convoSmall: { op: convoOp(small) },
      rawSmall: { op: rawOp(small) },
      convoLarge: { op: convoOp(large) },
      rawLarge: { op: rawOp(large) },
    },
  });
  const row = (s: Subject, convo: typeof stats.convoSmall, raw: typeof stats.rawSmall): ComparisonRow => ({
    engine: engine.label,
    case: `${page}, user with ${count(s.size)}`,
    comparison: { convo, raw, ratio: convo.opsPerSec / raw.opsPerSec },
  });
  progress(
    `${engine.label} W3 ${page}: convo p50 ${stats.convoSmall.p50.toFixed(3)} → ${stats.convoLarge.p50.toFixed(3)} ms ` +
      `(${(stats.convoLarge.p50 / stats.convoSmall.p50).toFixed(2)}×)`,
  );
  return {
    rows: [row(small, stats.convoSmall, stats.rawSmall), row(large, stats.convoLarge, stats.rawLarge)],
    flat: {
      engine: engine.label,
      page,
      convo: [stats.convoSmall.p50, stats.convoLarge.p50],
      raw: [stats.rawSmall.p50, stats.rawLarge.p50],
      plan,
    },
  };
}

async function runEngine(engine: BenchEngine, sizes: Sizes): Promise<PageResult[]> {
  const { small, large } = await seed(engine, sizes);
  return [
    await measureAgainstOthers(engine, sizes, small),
    await measurePage(engine, sizes, [small, large], false),
    await measurePage(engine, sizes, [small, large], true),
  ];
}

/**
 * The first page of the user with `sizes.small` conversations at c=1 and c=16, beside
 * the minimal reference (`ORDER BY updated_at DESC LIMIT 20` and a `count(*)`) and
 * Mastra's `listThreads` (PostgreSQL), each on its own user of the same size.
 */
async function measureAgainstOthers(engine: BenchEngine, sizes: Sizes, small: Subject): Promise<PageResult> {
  const minimal = await openMinimal(engine.name);
  const mastra = engine.name === "postgres" ? await openMastra() : undefined;
  try {
    const [[first]] = await seedMinimal(minimal, {
      users: 1,
      perUser: sizes.small,
      messages: 0,
      newestAgeSeconds: 60,
      stepSeconds: 60,
    });
    await minimal.query(`VACUUM ANALYZE "${minimal.schema}".conversations`);
    const refUser = first.userId;
    const mastraUser = mastra
      ? (await seedMastra(mastra, { users: 1, perUser: sizes.small, messages: 0, stepSeconds: 60 }))[0][0].userId
      : "";
    if (mastra) await mastra.pool.query(`VACUUM ANALYZE "${mastra.schema}".mastra_threads`);
    const rows: ComparisonRow[] = [];
    for (const concurrency of [1, 16]) {
      const comparison = await compare({
        label: `${engine.label} W3 first page, c=${concurrency}`,
        count: concurrency === 1 ? sizes.compared[0] : sizes.compared[1],
        concurrency,
        warmupCount: sizes.compared[2],
        convo: { op: async () => expectPage(await engine.convo.conversations.list(small.userId, { limit: LIMIT }), small.size) },
        raw: { op: async () => expectPage(await rawConversationPage(engine.raw.query, small.userId, LIMIT), small.size) },
        ref: { op: async () => expectPage(await minimalPage(minimal, refUser, LIMIT), small.size) },
        mastra: mastra ? { op: async () => expectPage(await mastraPage(mastra, mastraUser, LIMIT), small.size) } : undefined,
      });
      rows.push({ engine: engine.label, case: `first page, user with ${count(small.size)}, c=${concurrency}`, comparison });
    }
    return { rows, flat: undefined };
  } finally {
    await minimal.close();
    await mastra?.close();
  }
}

/** Runs W3 on every selected engine; answers its Markdown section. */
export async function run(opts: { quick: boolean }): Promise<string> {
  const sizes = opts.quick ? QUICK : FULL;
  const results = (await forEachEngine((engine) => runEngine(engine, sizes))).flatMap((r) => r.result);
  const [s, l] = [count(sizes.small), count(sizes.large)];
  const flatness = markdownTable(
    [
      "engine",
      "page",
      `Convo p50 ms, ${s}`,
      `Convo p50 ms, ${l}`,
      `Convo ${l} ÷ ${s}`,
      `raw ${l} ÷ ${s}`,
      `plan of the page query, ${l}`,
    ],
    results
      .flatMap(({ flat }) => (flat ? [flat] : []))
      .map((flat) => [
        flat.engine,
        flat.page,
        ms(flat.convo[0]),
        ms(flat.convo[1]),
        ratio(flat.convo[1] / flat.convo[0]),
        ratio(flat.raw[1] / flat.raw[0]),
        flat.plan,
      ]),
    ["left", "left", "right", "right", "right", "right", "left"],
  );
  return [
    `## ${title}`,
    "",
    `Two users, one with ${s} conversations and one with ${l} (one a minute back in time, all but the newest closed, ` +
      `${sizes.messagesPerConversation} message${sizes.messagesPerConversation === 1 ? "" : "s"} each; bulk SQL, then ANALYZE). Each call reads one page of ${LIMIT} with ` +
      "`total`, `hasMore`, `nextCursor` and every item's `messageCount`.",
    "",
    `Page time, ${l} ÷ ${s} conversations (p50; target ≤ 1.2×, the cost must not grow with the history):`,
    "",
    flatness,
    "",
    comparisonTable(results.flatMap((r) => r.rows)),
    "",
    "- The first two rows of the second table compare the first page of the user with " +
      `${s} conversations at c=1 and c=16 with the minimal reference (\`ORDER BY updated_at DESC LIMIT 20\` and a ` +
      "`count(*)`, two statements) and Mastra's `listThreads` (`perPage: 20`, by `updatedAt` desc, with its total), each " +
      `on its own user of the same size: ${count(sizes.compared[0])} pages per contender at c=1 and ` +
      `${count(sizes.compared[1])} at c=16 after ${sizes.compared[2]} warm-up pages, interleaved in 10 rounds.`,
    "- Convo: `convo.conversations.list(userId, { limit: 20 })`, and with the `cursor` the library handed out " +
      `${Math.round(DEPTH * 100)}% of the way down the list (walked once beforehand, 100 per page). One statement: ` +
      "the keyset page, with the total from the kept `conversation_totals` riding on each row.",
    "- Raw: `SELECT * FROM conversations WHERE user_id = $1 [AND (updated_at, id) < ($2, $3)] ORDER BY updated_at DESC, " +
      "id DESC LIMIT 21` and `SELECT COALESCE(SUM(total), 0) FROM conversation_totals WHERE user_id = $1`, two " +
      "autocommit reads — see `bench/reference/reads.ts`.",
    "- The plan column is PostgreSQL's plan (`EXPLAIN`) for the page query of the larger user on that engine: a Sort " +
      "over a Seq Scan or Bitmap Heap Scan reads all of the user's (remaining) conversations to pick 20, so its cost " +
      "grows with the history; an Index Scan on `conversations_user_activity_idx` reads only the 21 rows it returns.",
    `- The page-time table: ${count(sizes.pages)} pages per contender after ${sizes.warmup} warm-up pages, c=1; the ` +
      "four contenders of a page (Convo and raw, both users) interleaved in 10 rounds.",
  ].join("\n");
}

/**
 * W2 (DESIGN.md §5): the last 20 messages of a random conversation among 100,000
 * messages: `convo.messages.last` (the public call, one statement), and the context
 * loader that also answers them (with the user and the conversation), both timed
 * against the raw `… ORDER BY seq DESC LIMIT 20`.
 */
import { compare } from "../lib/compare.js";
import { type BenchEngine, forEachEngine } from "../lib/engines.js";
import { progress } from "../lib/log.js";
import { randomIndices } from "../lib/random.js";
import { type ComparisonRow, comparisonTable } from "../lib/report.js";
import { type SeededConversation, seedConversations, seedMessages, seedUsers } from "../lib/seed.js";
import { count } from "../lib/table.js";
import { type MastraDb, mastraRecent, openMastra, seedMastra } from "../reference/mastra.js";
import { type MinimalDb, minimalRecent, openMinimal, seedMinimal } from "../reference/minimal.js";
import { rawContextReads, rawLastMessages } from "../reference/reads.js";

export const id = "w2";
export const title = "W2 — last 20 messages of a random conversation";

interface Sizes {
  users: number;
  conversationsPerUser: number;
  messagesPerConversation: number;
  /** Reads per contender per case at concurrency 1, and of the repository read at 16. */
  reads1: number;
  reads16: number;
  warmup: number;
}

// 200 users × 5 conversations × 100 messages = 100,000 messages.
const FULL: Sizes = {
  users: 200,
  conversationsPerUser: 5,
  messagesPerConversation: 100,
  reads1: 4000,
  reads16: 8000,
  warmup: 300,
};
const QUICK: Sizes = { users: 50, conversationsPerUser: 4, messagesPerConversation: 50, reads1: 200, reads16: 400, warmup: 32 };
const LIMIT = 20;

/** Throws unless a read answered exactly the last LIMIT messages: a wrong answer is not a result. */
function expectLast(rows: { length: number }, top: number): void {
  if (rows.length !== Math.min(LIMIT, top)) throw new Error(`expected ${LIMIT} messages, got ${rows.length}`);
}

async function seed(engine: BenchEngine, sizes: Sizes): Promise<SeededConversation[]> {
  const started = Date.now();
  const users = await seedUsers(engine.raw, "w2-", sizes.users);
  // A day of history per user: the newest conversation a day old, older ones closed.
  const byUser = await seedConversations(engine.raw, users, {
    perUser: sizes.conversationsPerUser,
    newestAgeSeconds: 86_400,
    stepSeconds: 3_600,
    closeOlder: true,
  });
  const conversations = byUser.flat();
  await seedMessages(engine.raw, conversations, sizes.messagesPerConversation);
  await engine.raw.exec("ANALYZE");
  const [{ n }] = await engine.raw.query<{ n: number | string }>("SELECT count(*) AS n FROM messages");
  progress(`W2 on ${engine.label}: seeded ${count(Number(n))} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return conversations;
}

async function runEngine(engine: BenchEngine, sizes: Sizes): Promise<ComparisonRow[]> {
  const minimal = await openMinimal(engine.name);
  const mastra = engine.name === "postgres" ? await openMastra() : undefined;
  try {
    return await measureEngine(engine, sizes, minimal, mastra);
  } finally {
    await minimal.close();
    await mastra?.close();
  }
}

async function measureEngine(engine: BenchEngine, sizes: Sizes, minimal: MinimalDb, mastra?: MastraDb): Promise<ComparisonRow[]> {
  const conversations = await seed(engine, sizes);
  const started = Date.now();
  const shape = { users: sizes.users, perUser: sizes.conversationsPerUser, messages: sizes.messagesPerConversation };
  const refConversations = (await seedMinimal(minimal, { ...shape, newestAgeSeconds: 86_400, stepSeconds: 3_600 })).flat();
  await minimal.query(`ANALYZE "${minimal.schema}".messages`);
  const mastraThreads = mastra ? (await seedMastra(mastra, { ...shape, stepSeconds: 3_600 })).flat() : [];
  if (mastra) await mastra.pool.query(`ANALYZE "${mastra.schema}".mastra_messages`);
  progress(
    `W2 on ${engine.label}: seeded the reference${mastra ? " and Mastra" : ""} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const top = sizes.messagesPerConversation;
  // The same "random" conversation sequence for every contender and case.
  const picks = randomIndices(2, Math.max(sizes.reads1, sizes.reads16, sizes.warmup), conversations.length);
  const pick = (i: number) => conversations[picks[i]];
  const { convo, raw } = engine;

  const contextLoad = async (i: number) => {
    const c = pick(i);
    const context = await convo.context.load(c.userId, { conversationId: c.id, historyLimit: LIMIT, sessionsLimit: 0 });
    expectLast(context.conversationHistory, top);
  };
  const repositoryLast = async (i: number) => {
    const c = pick(i);
    expectLast(await convo.messages.last(c.userId, c.id, { limit: LIMIT }), top);
  };
  const rawLast = async (i: number) => {
    const c = pick(i);
    expectLast(await rawLastMessages(raw.query, c.userId, c.id, LIMIT), top);
  };
  const refLast = async (i: number) => {
    expectLast(await minimalRecent(minimal, refConversations[picks[i]].id, LIMIT), top);
  };
  const mastraLast = async (i: number) => {
    if (!mastra) return;
    expectLast(await mastraRecent(mastra, mastraThreads[picks[i]], LIMIT), top);
  };
  const rawContext = async (i: number) => {
    const c = pick(i);
    expectLast((await rawContextReads(raw, c.userId, c.id, LIMIT)).history, top);
  };

  type Read = (i: number) => Promise<void>;
  const cases: [string, number, number, Read, Read, boolean][] = [
    ["`messages.last`, c=1", 1, sizes.reads1, repositoryLast, rawLast, true],
    ["`messages.last`, c=16", 16, sizes.reads16, repositoryLast, rawLast, true],
    ["`context.load` (raw: the same reads in a transaction), c=1", 1, sizes.reads1, contextLoad, rawContext, false],
  ];
  const rows: ComparisonRow[] = [];
  for (const [name, concurrency, reads, convoOp, rawOp, withOthers] of cases) {
    const comparison = await compare({
      label: `${engine.label} W2 ${name}`,
      count: reads,
      concurrency,
      warmupCount: sizes.warmup,
      convo: { op: convoOp },
      raw: { op: rawOp },
      ref: withOthers ? { op: refLast } : undefined,
      mastra: withOthers && mastra ? { op: mastraLast } : undefined,
    });
    rows.push({ engine: engine.label, case: name, comparison });
  }
  return rows;
}

/** Runs W2 on every selected engine; answers its Markdown section. */
export async function run(opts: { quick: boolean }): Promise<string> {
  const sizes = opts.quick ? QUICK : FULL;
  const results = await forEachEngine((engine) => runEngine(engine, sizes));
  const total = sizes.users * sizes.conversationsPerUser * sizes.messagesPerConversation;
  return [
    `## ${title}`,
    "",
    `${count(total)} messages (${sizes.users} users × ${sizes.conversationsPerUser} conversations × ` +
      `${sizes.messagesPerConversation} messages, seeded in bulk SQL, then ANALYZE); each call reads the last ${LIMIT} ` +
      `messages, oldest first, of a conversation picked at random (the same seeded sequence for every contender).`,
    "",
    comparisonTable(results.flatMap((r) => r.result)),
    "",
    "- ref = the minimal reference (`SELECT * FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT 20`, " +
      "reversed, on its own schema with the same number of conversations and messages); Mastra = `listMessages` " +
      "(`perPage: 20`, newest first, `includeTotal: false`, reversed), on PostgreSQL.",
    "- `context.load` = `convo.context.load(userId, { conversationId, historyLimit: 20, sessionsLimit: 0 })`, the " +
      "context a model needs: reads of the user (profile), the conversation and its last 20 messages without noise " +
      "(and the previous conversations, here none), without a transaction.",
    "- `messages.last` = `convo.messages.last(userId, conversationId, { limit: 20 })` (also `GET …/messages?last=20`), " +
      "one autocommit statement.",
    "- raw SELECT = `SELECT * FROM messages WHERE user_id = $1 AND conversation_id = $2 ORDER BY seq DESC LIMIT 20` " +
      '(with `AND noise = false` when compared with the context loader), reversed in JS; "same reads in a transaction" ' +
      "= BEGIN; the user; the conversation; that SELECT; COMMIT — see `bench/reference/reads.ts`.",
    `- ${count(sizes.reads1)} reads per contender at c=1, ${count(sizes.reads16)} at c=16 (the repository read only: ` +
      `the context loader's ratio at c=1 already shows where its time goes), after ${sizes.warmup} warm-up reads each; ` +
      "interleaved in 10 rounds. Convo ÷ raw is the throughput ratio (target ≥ 0.9×).",
  ].join("\n");
}

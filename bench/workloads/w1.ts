/**
 * W1 (DESIGN.md §5): append one message per call — 200 users × 50 messages at
 * concurrency 1 and 16 — through `convo.messages.append` and, since that is what a bot
 * calls most, `convo.messages.appendToCurrent`, each against the raw reference
 * (bench/reference/append.ts) on the same schema.
 */
import type { Convo } from "@convo/core";
import { compare } from "../lib/compare.js";
import { type BenchEngine, forEachEngine, POOL_SIZE, type RawDb } from "../lib/engines.js";
import { type ComparisonRow, comparisonTable } from "../lib/report.js";
import { type SeededConversation, seedConversations, seedUsers } from "../lib/seed.js";
import { count, markdownTable, ratio } from "../lib/table.js";
import type { Op } from "../lib/timing.js";
import { rawAppend, rawAppendToCurrent } from "../reference/append.js";
import { type MastraDb, mastraAppend, mastraBytesPerMessage, openMastra, seedMastra } from "../reference/mastra.js";
import { type MinimalDb, minimalAppend, minimalBytesPerMessage, openMinimal, seedMinimal } from "../reference/minimal.js";

export const id = "w1";
export const title = "W1 — append one message per call";

interface Sizes {
  users: number;
  messagesPerUser: number;
  /** Messages per user through appendToCurrent (fewer: each call is a whole transaction). */
  currentPerUser: number;
  /** Appends in the one-user and one-conversation cases at concurrency 16. */
  hotOps: number;
  warmup: number;
}

const FULL: Sizes = { users: 200, messagesPerUser: 50, currentPerUser: 10, hotOps: 800, warmup: 200 };
const QUICK: Sizes = { users: 16, messagesPerUser: 8, currentPerUser: 4, hotOps: 160, warmup: 32 };
const WARM_USERS = 16;

type Role = "user" | "assistant";
/** The k-th message of a conversation: alternating user and assistant, chat-sized. */
const message = (k: number): { role: Role; content: string } => {
  const role: Role = k % 2 === 0 ? "user" : "assistant";
  return { role, content: `${role} message ${k}: can you turn my cat photo into a sticker with a happy face?` };
};

/** Appends to `conversations` chosen per operation; the same mapping for both contenders. */
type Target = (index: number, worker: number) => { conversation: SeededConversation; k: number };

/** Convo's append of the target's message. */
const convoAppend =
  (convo: Convo, target: Target): Op =>
  (i, w) => {
    const { conversation: c, k } = target(i, w);
    return convo.messages.append(c.userId, c.id, message(k));
  };

/** The raw reference's append of the same message. */
const rawAppendOp =
  (raw: RawDb, target: Target): Op =>
  (i, w) => {
    const { conversation: c, k } = target(i, w);
    return rawAppend(raw.query, { userId: c.userId, conversationId: c.id, ...message(k) });
  };

/** Users with one conversation each; `index` i goes to user i mod n, as its message i div n. */
async function spreadTarget(raw: RawDb, prefix: string, users: number): Promise<Target> {
  const conversations = (await seedConversations(raw, await seedUsers(raw, prefix, users), { perUser: 1 })).map((c) => c[0]);
  return (i) => ({ conversation: conversations[i % users], k: Math.floor(i / users) });
}

/** One user with one conversation per worker: nothing shared but the user. */
async function perWorkerTarget(raw: RawDb, prefix: string, workers: number): Promise<Target> {
  const [mine] = await seedConversations(raw, await seedUsers(raw, prefix, 1), { perUser: workers });
  return (i, w) => ({ conversation: mine[w], k: i });
}

/** One conversation every worker appends to: they queue on its row lock. */
async function hotTarget(raw: RawDb, prefix: string): Promise<Target> {
  const [[only]] = await seedConversations(raw, await seedUsers(raw, prefix, 1), { perUser: 1 });
  return (i) => ({ conversation: only, k: i });
}

/** The other stores of issue 10, for the cases they can run (one conversation per user). */
interface Others {
  minimal: MinimalDb;
  mastra?: MastraDb;
  users: number;
}

/** The minimal reference's append on its own conversations, one per user, spread as `spreadTarget`. */
async function minimalOp(db: MinimalDb, users: number): Promise<Op> {
  const conversations = (await seedMinimal(db, { users, perUser: 1, messages: 0 })).map((c) => c[0]);
  return (i) => {
    const { role, content } = message(Math.floor(i / users));
    return minimalAppend(db, conversations[i % users].id, role, content);
  };
}

/** Mastra's append (`saveMessages` of one message) on its own threads, spread as `spreadTarget`. */
async function mastraOp(db: MastraDb, users: number): Promise<Op> {
  const threads = (await seedMastra(db, { users, perUser: 1, messages: 0 })).map((t) => t[0]);
  return (i) => {
    const { role, content } = message(Math.floor(i / users));
    return mastraAppend(db, threads[i % users], role, content);
  };
}

async function appendCase(
  engine: BenchEngine,
  name: string,
  concurrency: number,
  ops: number,
  warmup: number,
  makeTarget: (side: string) => Promise<Target>,
  others?: Others,
): Promise<ComparisonRow> {
  // Each contender measures and warms up on its own fresh rows, so all start from the same state.
  const [convoRows, rawRows, convoWarm, rawWarm] = await Promise.all(["c", "r", "wc", "wr"].map(makeTarget));
  const ref = others
    ? { op: await minimalOp(others.minimal, others.users), warmup: await minimalOp(others.minimal, WARM_USERS) }
    : undefined;
  const mastra = others?.mastra
    ? { op: await mastraOp(others.mastra, others.users), warmup: await mastraOp(others.mastra, WARM_USERS) }
    : undefined;
  const comparison = await compare({
    label: `${engine.label} ${name}`,
    count: ops,
    concurrency,
    warmupCount: warmup,
    convo: { op: convoAppend(engine.convo, convoRows), warmup: convoAppend(engine.convo, convoWarm) },
    raw: { op: rawAppendOp(engine.raw, rawRows), warmup: rawAppendOp(engine.raw, rawWarm) },
    ref,
    mastra,
  });
  return { engine: engine.label, case: name, comparison };
}

async function appendToCurrentCase(engine: BenchEngine, name: string, concurrency: number, sizes: Sizes, tag: string) {
  const { users, currentPerUser, warmup } = sizes;
  const ids = async (side: string, n: number) => seedUsers(engine.raw, `w1-${tag}-${side}-`, n);
  const [convoUsers, rawUsers, warmConvo, warmRaw] = await Promise.all([
    ids("c", users),
    ids("r", users),
    ids("wc", WARM_USERS),
    ids("wr", WARM_USERS),
  ]);
  // Users start without conversations: each one's first call opens it, as in production.
  const convoOp = (list: string[]) => (i: number) =>
    engine.convo.messages.appendToCurrent(list[i % list.length], message(Math.floor(i / list.length)));
  const rawOp = (list: string[]) => (i: number) =>
    rawAppendToCurrent(engine.raw, { userId: list[i % list.length], ...message(Math.floor(i / list.length)) });
  const comparison = await compare({
    label: `${engine.label} ${name}`,
    count: users * currentPerUser,
    concurrency,
    warmupCount: warmup,
    convo: { op: convoOp(convoUsers), warmup: convoOp(warmConvo) },
    raw: { op: rawOp(rawUsers), warmup: rawOp(warmRaw) },
  });
  return { engine: engine.label, case: name, comparison };
}

/**
 * Checks what both contenders wrote: every conversation's `seq` runs 1…n without gaps
 * (count = max = last_seq = message_count), every conversation with a user message has
 * a title, and no user got two open conversations. A failure is a bug, not a slow run.
 */
async function verify(raw: RawDb): Promise<number> {
  const [bad] = await raw.query<{ gaps: number; untitled: number; doubled: number; messages: number }>(
    `SELECT
       (SELECT count(*)::int FROM conversations c
         LEFT JOIN LATERAL (SELECT count(*) AS n, COALESCE(max(seq), 0) AS top FROM messages m
                            WHERE m.user_id = c.user_id AND m.conversation_id = c.id) s ON true
         WHERE s.n <> c.message_count OR s.top <> c.last_seq OR c.last_seq <> c.message_count) AS gaps,
       (SELECT count(*)::int FROM conversations c WHERE c.title IS NULL AND EXISTS
         (SELECT 1 FROM messages m WHERE m.user_id = c.user_id AND m.conversation_id = c.id AND m.role = 'user')) AS untitled,
       (SELECT count(*)::int FROM (SELECT c.user_id FROM conversations c JOIN users u ON u.id = c.user_id
                                   WHERE u.external_id LIKE 'w1-t%' GROUP BY c.user_id HAVING count(*) > 1) d) AS doubled,
       (SELECT count(*)::int FROM messages) AS messages`,
  );
  if (bad.gaps || bad.untitled || bad.doubled) {
    throw new Error(`W1 wrote inconsistent rows: ${JSON.stringify(bad)}`);
  }
  return bad.messages;
}

/** Stored bytes per message (messages table with TOAST and indexes) of each store. */
export interface Bytes {
  convo: number;
  ref: number;
  mastra?: number;
}

/** Size of Convo's messages table (heap, TOAST and indexes) per stored message. */
async function convoBytesPerMessage(raw: RawDb): Promise<number> {
  const [row] = await raw.query<{ bytes: string; n: string }>(
    "SELECT pg_total_relation_size('messages') AS bytes, (SELECT count(*) FROM messages) AS n",
  );
  return Number(row.bytes) / Number(row.n);
}

async function runEngine(engine: BenchEngine, sizes: Sizes): Promise<{ rows: ComparisonRow[]; messages: number; bytes: Bytes }> {
  const { users, messagesPerUser, hotOps, warmup } = sizes;
  const spread = users * messagesPerUser;
  const rows: ComparisonRow[] = [];
  const who = `${users} users × ${messagesPerUser}`;
  const minimal = await openMinimal(engine.name);
  const mastra = engine.name === "postgres" ? await openMastra() : undefined;
  const others: Others = { minimal, mastra, users };
  let bytes: Bytes;
  try {
    rows.push(
      await appendCase(
        engine,
        `append, c=1, ${who}`,
        1,
        spread,
        warmup,
        (side) => spreadTarget(engine.raw, `w1-a1-${side}-`, users),
        others,
      ),
    );
    rows.push(
      await appendCase(
        engine,
        `append, c=16, ${who} (workers on different users)`,
        16,
        spread,
        warmup,
        (side) => spreadTarget(engine.raw, `w1-a16-${side}-`, users),
        others,
      ),
    );
    bytes = {
      convo: await convoBytesPerMessage(engine.raw),
      ref: await minimalBytesPerMessage(minimal),
      mastra: mastra ? await mastraBytesPerMessage(mastra) : undefined,
    };
  } finally {
    await minimal.close();
    await mastra?.close();
  }
  rows.push(
    await appendCase(engine, `append, c=16, 1 user × 16 conversations (one per worker)`, 16, hotOps, warmup, (side) =>
      perWorkerTarget(engine.raw, `w1-pw-${side}-`, 16),
    ),
  );
  rows.push(
    await appendCase(engine, `append, c=16, 1 conversation (all workers on its row lock)`, 16, hotOps, warmup, (side) =>
      hotTarget(engine.raw, `w1-hot-${side}-`),
    ),
  );
  const current = `${users} users × ${sizes.currentPerUser}`;
  rows.push(await appendToCurrentCase(engine, `appendToCurrent, c=1, ${current}`, 1, sizes, "t1"));
  rows.push(
    await appendToCurrentCase(engine, `appendToCurrent, c=16, ${current} (workers on different users)`, 16, sizes, "t16"),
  );
  return { rows, messages: await verify(engine.raw), bytes };
}

/** Runs W1 on every selected engine; answers its Markdown section. */
export async function run(opts: { quick: boolean }): Promise<string> {
  const sizes = opts.quick ? QUICK : FULL;
  const { users, messagesPerUser } = sizes;
  const who = `${users} users × ${messagesPerUser}`;
  const results = await forEachEngine((engine) => runEngine(engine, sizes));
  const rows = results.flatMap((r) => r.result.rows);
  const written = results.map((r) => `${count(r.result.messages)} on ${r.engine}`).join(", ");
  return [
    `## ${title}`,
    "",
    `Each call appends one message (alternating user/assistant, ~90 characters) and answers the stored message. ` +
      `Convo: \`convo.messages.append(userId, conversationId, { role, content })\` (one statement) and ` +
      `\`convo.messages.appendToCurrent(userId, { role, content })\` (one transaction). ` +
      `Raw: the same single-statement CTE append through the bare driver (a \`pg\` Pool of ${POOL_SIZE}, or the PGlite client), ` +
      `and for appendToCurrent BEGIN; lock the user row; find the active conversation FOR UPDATE ` +
      `(or close the idle ones and open one); append; COMMIT — see \`bench/reference/append.ts\`. ` +
      `In the two spread cases also "ref", the minimal reference of issue 10 (its own schema, one statement: ` +
      `UPDATE the conversation, INSERT the message with max(seq) + 1, retried on a unique violation; ` +
      `\`bench/reference/minimal.ts\`), and on PostgreSQL Mastra's \`saveMessages\` of one message (\`@mastra/pg\`, its own schema).`,
    "",
    comparisonTable(rows),
    "",
    "Bytes per stored message (the messages table with its TOAST and indexes, ÷ its rows, after the two spread cases):",
    "",
    markdownTable(
      ["engine", "Convo B/msg", "ref B/msg", "Convo ÷ ref", "Mastra B/msg", "Convo ÷ Mastra"],
      results.map(({ engine, result: { bytes } }) => [
        engine === "postgres" ? "PostgreSQL" : "PGlite",
        count(Math.round(bytes.convo)),
        count(Math.round(bytes.ref)),
        ratio(bytes.convo / bytes.ref),
        bytes.mastra ? count(Math.round(bytes.mastra)) : "–",
        bytes.mastra ? ratio(bytes.convo / bytes.mastra) : "–",
      ]),
      ["left", "right", "right", "right", "right", "right"],
    ),
    "",
    `- "c=16, workers on different users": 16 workers take the next message from one queue ordered user by user, ` +
      `so the 16 in flight are for 16 different users' conversations. "1 user × 16 conversations": each worker owns one ` +
      `conversation of the same user (append takes no per-user lock). "1 conversation": all 16 queue on its row lock, by design, ` +
      `so \`seq\` stays gap-free. appendToCurrent users start with no conversation: each one's first call opens it ` +
      `(1 call in ${sizes.currentPerUser}), the others find it active.`,
    `- Sizes: ${who} = ${count(users * messagesPerUser)} appends per contender per case; ` +
      `${count(users * sizes.currentPerUser)} through appendToCurrent (each a whole transaction, so fewer to keep the run short); ` +
      `${count(sizes.hotOps)} in the one-user and one-conversation cases; ${sizes.warmup} warm-up calls per contender ` +
      `on separate rows first. Each contender writes to its own fresh users and conversations; ` +
      `the two alternate in 10 rounds. Convo ÷ raw is the throughput ratio (target ≥ 0.9×).`,
    `- Checked after the run: every conversation's seq is 1…n without gaps and matches message_count, ` +
      `every conversation with a user message has a title, appendToCurrent opened one conversation per user (messages written: ${written}).`,
    `- PostgreSQL commits with fsync (synchronous_commit on); PGlite never fsyncs (in memory, \`memory://\`), ` +
      `and its single connection runs one statement at a time, so c=16 there only queues.`,
  ].join("\n");
}

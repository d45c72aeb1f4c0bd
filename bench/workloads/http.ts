/**
 * W1–W3 over HTTP (issue 10): `convo serve` as shipped (its default logging and
 * validation; only the admin rate limit raised so a benchmark is not throttled) against
 * a bare `node:http` server running the minimal reference's SQL
 * (bench/http/reference-server.mjs), both in child processes on the same PostgreSQL,
 * driven by the same keep-alive client from this process, interleaved, at concurrency
 * 1 and 16. The server's CPU per request is read from /proc (utime + stime).
 * Target: Convo ≥ 0.9× the bare server per workload.
 */
import { readFileSync } from "node:fs";
import { type JsonClient, jsonClient } from "../http/client.js";
import { type ServerProcess, startReferenceServer, startServerProcess } from "../http/server-process.js";
import { interleave } from "../lib/compare.js";
import { type BenchEngine, databaseUrl, type RawDb, selectedEngines, withEngine } from "../lib/engines.js";
import { progress } from "../lib/log.js";
import { seedConversations, seedMessages, seedUsers } from "../lib/seed.js";
import type { Stats } from "../lib/stats.js";
import { count, markdownTable, ms, ops, ratio } from "../lib/table.js";
import type { Op } from "../lib/timing.js";
import type { WorkloadOptions } from "../lib/workload.js";
import { type MinimalConversation, openMinimal, seedMinimal } from "../reference/minimal.js";

export const id = "http";
export const title = "W1–W3 over HTTP";

const CONCURRENCY = [1, 16];

interface Seeded {
  append: { userId: string; id: string }[];
  read: { userId: string; id: string }[];
  listUser: string;
}

const LIST_SIZE = 500;

async function seedConvo(raw: RawDb, readers: number): Promise<Seeded> {
  const appendUsers = await seedUsers(raw, "http-w1-", 200);
  const append = (await seedConversations(raw, appendUsers, { perUser: 1 })).map((c) => c[0]);
  const readUsers = await seedUsers(raw, "http-w2-", readers);
  const read = (await seedConversations(raw, readUsers, { perUser: 1 })).map((c) => c[0]);
  await seedMessages(raw, read, 100);
  const [listUser] = await seedUsers(raw, "http-w3-", 1);
  await seedConversations(raw, [listUser], { perUser: LIST_SIZE, closeOlder: true, stepSeconds: 60 });
  await raw.exec("VACUUM ANALYZE");
  return { append, read, listUser };
}

async function seedReference(db: Awaited<ReturnType<typeof openMinimal>>, readers: number): Promise<Seeded> {
  const first = (list: MinimalConversation[][]) => list.map((c) => c[0]);
  const append = first(await seedMinimal(db, { users: 200, perUser: 1, messages: 0 }));
  const read = first(await seedMinimal(db, { users: readers, perUser: 1, messages: 100 }));
  const [[list]] = await seedMinimal(db, { users: 1, perUser: LIST_SIZE, messages: 0, stepSeconds: 60 });
  await db.query(`VACUUM ANALYZE "${db.schema}".conversations`);
  await db.query(`VACUUM ANALYZE "${db.schema}".messages`);
  return { append, read, listUser: list.userId };
}

/** The same request shapes for both servers, on each one's own rows. */
function requests(seeded: Seeded, client: JsonClient) {
  const pick = <T>(list: T[], i: number) => list[(i * 7919) % list.length];
  const as = (userId: string) => ({ "x-convo-user-id": userId });
  return {
    "W1 append": (i: number) => {
      const t = seeded.append[i % seeded.append.length];
      const body = { role: "user", content: `http message ${i}: can you turn my cat photo into a sticker?` };
      return client.request("POST", `/v1/conversations/${t.id}/messages`, body, as(t.userId));
    },
    "W2 last 20": (i: number) => {
      const t = pick(seeded.read, i);
      return client.request("GET", `/v1/conversations/${t.id}/messages?last=20`, undefined, as(t.userId));
    },
    [`W3 page of 20 (${count(LIST_SIZE)})`]: () =>
      client.request("GET", `/v1/users/${seeded.listUser}/conversations?limit=20`, undefined, as(seeded.listUser)),
  } as Record<string, Op>;
}

/** CPU time (user + system) a child process has used so far, milliseconds (Linux /proc). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

interface Row {
  workload: string;
  concurrency: number;
  convo: Stats;
  ref: Stats;
  convoServerCpu: number;
  refServerCpu: number;
}

async function onPostgres(engine: BenchEngine, quick: boolean): Promise<Row[]> {
  const readers = quick ? 100 : 1000;
  const minimal = await openMinimal("postgres");
  let convoServer: ServerProcess | undefined;
  let refServer: ServerProcess | undefined;
  const rows: Row[] = [];
  try {
    const convoRows = await seedConvo(engine.raw, readers);
    const refRows = await seedReference(minimal, readers);
    // As shipped: no CONVO_LOG_LEVEL, no other setting but the admin rate limit and the port.
    convoServer = await startServerProcess({ DATABASE_URL: databaseUrl, CONVO_SCHEMA: engine.schema, CONVO_POOL_SIZE: "16" });
    refServer = await startReferenceServer({ DATABASE_URL: databaseUrl, REF_SCHEMA: minimal.schema, POOL_SIZE: "16" });
    const convoClient = jsonClient(convoServer.url, 64);
    const refClient = jsonClient(refServer.url, 64);
    try {
      const convoOps = requests(convoRows, convoClient);
      const refOps = requests(refRows, refClient);
      for (const name of Object.keys(convoOps)) {
        for (const concurrency of CONCURRENCY) {
          // Batches of 500–1,000 requests: with fewer (150 at c=1 before) a batch lasted ~150 ms,
          // and the server CPU read from /proc in 10 ms ticks was off by up to 7 %.
          const n = quick ? 200 : concurrency === 1 ? 5000 : 10000;
          // Server CPU is read before and after each measured batch and summed (a request is far below one 10 ms tick).
          const convoCpu = { ms: 0, n: 0 };
          const refCpu = { ms: 0, n: 0 };
          const stats = await interleave({
            label: `HTTP ${name} c=${concurrency}`,
            count: n,
            concurrency,
            warmupCount: quick ? 50 : 300,
            contenders: {
              convo: { op: convoOps[name] },
              ref: { op: refOps[name] },
            },
            onBatch: (contender, run) => {
              const server = contender === "convo" ? convoServer : refServer;
              const totals = contender === "convo" ? convoCpu : refCpu;
              if (!server) return run();
              const before = processCpuMs(server.pid);
              return run().then((samples) => {
                totals.ms += processCpuMs(server.pid) - before;
                totals.n += samples.latenciesMs.length;
                return samples;
              });
            },
          });
          const row: Row = {
            workload: name,
            concurrency,
            convo: stats.convo,
            ref: stats.ref,
            convoServerCpu: convoCpu.ms / convoCpu.n,
            refServerCpu: refCpu.ms / refCpu.n,
          };
          progress(
            `HTTP ${name} c=${concurrency}: convo p50 ${ms(row.convo.p50)} ms, ref p50 ${ms(row.ref.p50)} ms, ` +
              `convo÷ref ${ratio(row.convo.opsPerSec / row.ref.opsPerSec)}, server CPU ${ms(row.convoServerCpu)} vs ${ms(row.refServerCpu)} ms/req`,
          );
          rows.push(row);
        }
      }
    } finally {
      convoClient.close();
      refClient.close();
    }
  } finally {
    await convoServer?.stop();
    await refServer?.stop();
    await minimal.close();
  }
  return rows;
}

export async function run(opts: WorkloadOptions): Promise<string> {
  if (!selectedEngines().includes("postgres"))
    return `## ${title}\n\nNot measured: PostgreSQL was not selected or did not answer.`;
  const rows = await withEngine("postgres", (engine) => onPostgres(engine, opts.quick));
  return [
    `## ${title}`,
    "",
    "Latencies in ms, PostgreSQL. Convo = `convo serve` as shipped (default log level and request logging, full " +
      "validation, admin key auth off as in a loopback install; only `CONVO_RATE_LIMIT_ADMIN` raised so the benchmark " +
      "is not rate-limited), pool of 16. ref = a bare `node:http` server running the minimal reference's SQL through a " +
      "`pg` Pool of 16 (`bench/http/reference-server.mjs`: no framework, no validation, no auth). Both in child processes, " +
      "driven by one keep-alive client from this process, interleaved in 10 rounds. Server CPU = the server process's " +
      "user + system time per request (/proc, 10 ms ticks summed over each batch).",
    "",
    markdownTable(
      [
        "workload",
        "conc.",
        "Convo p50",
        "Convo p99",
        "Convo req/s",
        "Convo server CPU ms/req",
        "ref p50",
        "ref p99",
        "ref req/s",
        "ref server CPU ms/req",
        "Convo ÷ ref",
        "CPU Convo ÷ ref",
      ],
      rows.map((r) => [
        r.workload,
        String(r.concurrency),
        ms(r.convo.p50),
        ms(r.convo.p99),
        ops(r.convo.opsPerSec),
        ms(r.convoServerCpu),
        ms(r.ref.p50),
        ms(r.ref.p99),
        ops(r.ref.opsPerSec),
        ms(r.refServerCpu),
        ratio(r.convo.opsPerSec / r.ref.opsPerSec),
        ratio(r.convoServerCpu / r.refServerCpu),
      ]),
      ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
    ),
    "",
    "- W1 append = `POST /v1/conversations/:id/messages` (200 conversations, one per user, in turn); W2 = " +
      "`GET /v1/conversations/:id/messages?last=20` of one of 1,000 conversations of 100 messages; W3 = " +
      `\`GET /v1/users/:id/conversations?limit=20\` of a user with ${count(LIST_SIZE)} conversations (the reference: page + \`count(*)\`).`,
    "- Admin requests name the user in `X-Convo-User-Id` (the reference server ignores it).",
  ].join("\n");
}

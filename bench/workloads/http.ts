/**
 * W1–W3 over HTTP: the same operations as the library workloads, sent to a real
 * `convo serve` (a child process on its own core) at concurrency 1, 16 and 64, beside
 * the library doing the same work in this process. The ratio HTTP ÷ library shows
 * what the HTTP layer (parsing, validation, auth, serialisation, the socket) costs.
 * Target (issue 3): append p99 under 10 ms at concurrency 16 on PostgreSQL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Convo, openConvo } from "@convo/core";
import { PGlite } from "@electric-sql/pglite";
import { type JsonClient, jsonClient } from "../http/client.js";
import { startServerProcess } from "../http/server-process.js";
import {
  type BenchEngine,
  databaseUrl,
  type EngineName,
  engineLabel,
  type RawDb,
  selectedEngines,
  withEngine,
} from "../lib/engines.js";
import { progress } from "../lib/log.js";
import { seedConversations, seedMessages, seedUsers } from "../lib/seed.js";
import { type Stats, summarize } from "../lib/stats.js";
import { markdownTable, ms, ops, ratio } from "../lib/table.js";
import { type Op, runOps } from "../lib/timing.js";
import type { WorkloadOptions } from "../lib/workload.js";

export const id = "http";
export const title = "W1–W3 over HTTP (issue 3)";

const CONCURRENCY = [1, 16, 64];

interface Seeded {
  /** W1: one conversation per user. */
  appendTargets: { userId: string; id: string }[];
  /** W2: conversations of 100 messages each. */
  readTargets: { userId: string; id: string }[];
  /** W3: a user with 500 and one with 10,000 conversations. */
  listUsers: { size: number; userId: string }[];
}

async function seed(raw: RawDb, quick: boolean): Promise<Seeded> {
  const appendUsers = await seedUsers(raw, "http-w1-", 200);
  const appendTargets = (await seedConversations(raw, appendUsers, { perUser: 1 })).map((c) => c[0]!);
  const readUsers = await seedUsers(raw, "http-w2-", quick ? 100 : 1000);
  const readTargets = (await seedConversations(raw, readUsers, { perUser: 1 })).map((c) => c[0]!);
  await seedMessages(raw, readTargets, 100);
  const listUsers: Seeded["listUsers"] = [];
  for (const size of [500, 10_000]) {
    const [userId] = await seedUsers(raw, `http-w3-${size}-`, 1);
    await seedConversations(raw, [userId!], { perUser: size, closeOlder: true });
    listUsers.push({ size, userId: userId! });
  }
  return { appendTargets, readTargets, listUsers };
}

/**
 * The operations of each workload, for the library (on `lib`'s rows) and over HTTP
 * (on `http`'s rows: the same shapes, in the server's database).
 */
function operations(lib: Seeded, http: Seeded, convo: Convo, client: JsonClient) {
  const pick = <T>(list: T[], i: number) => list[(i * 7919) % list.length]!;
  const userHeader = (userId: string) => ({ "x-convo-user-id": userId });
  return [
    {
      name: "W1 append",
      library: (i: number) => {
        const t = lib.appendTargets[i % lib.appendTargets.length]!;
        return convo.messages.append(t.userId, t.id, { role: "user", content: `library message ${i}` });
      },
      http: (i: number) => {
        const t = http.appendTargets[i % http.appendTargets.length]!;
        return client.request(
          "POST",
          `/v1/conversations/${t.id}/messages`,
          { role: "user", content: `http message ${i}` },
          userHeader(t.userId),
        );
      },
    },
    {
      name: "W2 last 20 (context)",
      library: (i: number) => {
        const t = pick(lib.readTargets, i);
        return convo.context.load(t.userId, { conversationId: t.id, historyLimit: 20, sessionsLimit: 0 });
      },
      http: (i: number) => {
        const t = pick(http.readTargets, i);
        return client.request("POST", `/v1/users/${t.userId}/context`, {
          conversationId: t.id,
          historyLimit: 20,
          sessionsLimit: 0,
        });
      },
    },
    ...lib.listUsers.map(({ size, userId }, i) => ({
      name: `W3 page of 20 (${size.toLocaleString("en-US")})`,
      library: () => convo.conversations.list(userId, { limit: 20 }),
      http: () => client.request("GET", `/v1/users/${http.listUsers[i]!.userId}/conversations?limit=20`),
    })),
  ];
}

interface Row {
  workload: string;
  concurrency: number;
  library: Stats;
  http: Stats;
}

async function measure(label: string, op: Op, count: number, concurrency: number): Promise<Stats> {
  await runOps(0, Math.min(200, count), concurrency, op); // warm-up: JIT, plans, sockets
  const stats = summarize(await runOps(0, count, concurrency, op));
  progress(`${label}: p50 ${ms(stats.p50)} ms, p99 ${ms(stats.p99)} ms, ${ops(stats.opsPerSec)}/s`);
  return stats;
}

async function runAll(lib: Seeded, http: Seeded, convo: Convo, url: string, engine: string, quick: boolean): Promise<Row[]> {
  const client = jsonClient(url, 64);
  const rows: Row[] = [];
  try {
    for (const op of operations(lib, http, convo, client)) {
      for (const concurrency of CONCURRENCY) {
        const count = quick ? 200 : concurrency === 1 ? 1000 : 3000;
        const library = await measure(`${engine} ${op.name} c${concurrency} library`, op.library, count, concurrency);
        const http = await measure(`${engine} ${op.name} c${concurrency} HTTP`, op.http, count, concurrency);
        rows.push({ workload: op.name, concurrency, library, http });
      }
    }
  } finally {
    client.close();
  }
  return rows;
}

/** PostgreSQL: the server process uses the library's schema. */
async function onPostgres(engine: BenchEngine, quick: boolean): Promise<Row[]> {
  const seeded = await seed(engine.raw, quick);
  const server = await startServerProcess({ DATABASE_URL: databaseUrl, CONVO_SCHEMA: engine.schema, CONVO_POOL_SIZE: "16" });
  try {
    return await runAll(seeded, seeded, engine.convo, server.url, engine.label, quick);
  } finally {
    await server.stop();
  }
}

/**
 * PGlite: one directory belongs to one process, so the server gets its own data
 * directory seeded the same way, and the library runs on the in-memory engine.
 */
async function onPglite(engine: BenchEngine, quick: boolean): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "convo-bench-http-"));
  try {
    const client = await PGlite.create(dir);
    const convo = await openConvo({ pglite: client });
    const raw: RawDb = {
      query: async <T>(text: string, params?: unknown[]) => (await client.query<T>(text, params)).rows,
      transaction: (fn) =>
        client.transaction((tx) => fn(async <T>(text: string, params?: unknown[]) => (await tx.query<T>(text, params)).rows)),
      exec: async (script) => {
        await client.exec(script);
      },
    };
    const forServer = await seed(raw, quick);
    await convo.close();
    await client.close();
    const forLibrary = await seed(engine.raw, quick);
    const server = await startServerProcess({ CONVO_DATA_DIR: dir });
    try {
      // Same shapes, different ids: the library runs on its seed, HTTP on the server's.
      return await runAll(forLibrary, forServer, engine.convo, server.url, engine.label, quick);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function section(engine: EngineName, rows: Row[]): string {
  return [
    `### ${engineLabel[engine]}`,
    "",
    markdownTable(
      [
        "workload",
        "conc.",
        "library p50",
        "library p99",
        "library ops/s",
        "HTTP p50",
        "HTTP p99",
        "HTTP req/s",
        "HTTP ÷ library (throughput)",
      ],
      rows.map((r) => [
        r.workload,
        String(r.concurrency),
        ms(r.library.p50),
        ms(r.library.p99),
        ops(r.library.opsPerSec),
        ms(r.http.p50),
        ms(r.http.p99),
        ops(r.http.opsPerSec),
        ratio(r.http.opsPerSec / r.library.opsPerSec),
      ]),
      ["left", "right", "right", "right", "right", "right", "right", "right", "right"],
    ),
  ].join("\n");
}

export async function run(opts: WorkloadOptions): Promise<string> {
  const parts = [
    `## ${title}`,
    "",
    "Latencies in ms. The server is `convo serve` in a child process (pool of 16 on PostgreSQL), driven over keep-alive",
    "connections by this process; the library figures are the same calls made in this process, in the same run.",
    "Admin requests name the user in `X-Convo-User-Id` (no owner lookup). Target: W1 append p99 < 10 ms at concurrency 16 on PostgreSQL.",
  ];
  for (const name of selectedEngines()) {
    const rows = await withEngine(name, (engine) =>
      name === "postgres" ? onPostgres(engine, opts.quick) : onPglite(engine, opts.quick),
    );
    parts.push("", section(name, rows));
  }
  return parts.join("\n");
}

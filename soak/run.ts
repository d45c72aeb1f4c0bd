/**
 * `npm run soak [-- --quick] [-- --only=postgres|pglite]`: a bounded soak and fault
 * run. PostgreSQL: a throwaway cluster (fsync on), two `convo serve` nodes, mixed
 * load through a round-robin client, and faults during it — kill -9 of a node
 * mid-run and its restart, `pg_ctl restart -m immediate`, `pg_terminate_backend` of
 * every app connection. PGlite: one node, kill -9 under load, restart on the same
 * directory. Then an independent reader checks the rows against what clients were
 * told (check.ts). Prints the counts and the recovery time after each fault; exits
 * non-zero on any problem.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { check, type Query } from "./check.js";
import { startCluster } from "./cluster.js";
import { Client, type FollowRecord, followSse, Ledger, sleep, userWorker } from "./load.js";
import { SoakNode } from "./nodes.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
/** Seconds of load between faults. */
const PHASE_S = quick ? 12 : 45;
const WORKERS = quick ? 6 : 12;
/** A 503 this long after a fault has recovered still counts as inside its window. */
const GRACE_MS = 3_000;

interface Fault {
  name: string;
  start: number;
  end: number;
  /** From the fault to every node answering a write. */
  recoveryMs: number;
  /** From the cause ending (the killed node listening again, PostgreSQL accepting connections) to every node answering a write. */
  afterCauseMs?: number;
}

const nodeEnv = (extra: Record<string, string>): Record<string, string> => ({
  CONVO_LOG_LEVEL: "warn",
  CONVO_RUN_LEASE_MS: "4000",
  CONVO_RUN_HEARTBEAT_MS: "1000",
  CONVO_SWEEP_INTERVAL_MS: "1000",
  CONVO_OFFLINE_CHUNK_DELAY_MS: "25",
  CONVO_SHUTDOWN_TIMEOUT_MS: "8000",
  CONVO_MAX_STREAMS_PER_USER: "64",
  ...extra,
});

/** Writes through every node until each has answered one 2xx; answers when the last did (ms since `since`). */
async function recovery(urls: string[], userId: string, since: number): Promise<number> {
  const times = await Promise.all(
    urls.map(async (url) => {
      for (;;) {
        try {
          const res = await fetch(`${url}/v1/users/${userId}/messages`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ role: "user", content: "probe" }),
            signal: AbortSignal.timeout(5_000),
          });
          await res.text();
          if (res.status < 300) return Date.now() - since;
        } catch {
          // down
        }
        await sleep(50);
      }
    }),
  );
  return Math.max(...times);
}

async function probeUser(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ externalId: `probe-${Date.now()}` }),
  });
  return ((await res.json()) as { id: string }).id;
}

interface FaultContext {
  client: Client;
  ledger: Ledger;
  probe: string;
  followers: Promise<void>[];
}

/**
 * Starts a long run through `url` (so that node executes it), follows it by SSE from
 * whichever node the client picks, and resolves once the run has streamed a few
 * events: killing that node now kills it mid-run.
 */
async function runInFlight(url: string, ctx: FaultContext): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, string>;
  };
  const conversation = await post(`/v1/users/${ctx.probe}/conversations`, {});
  const content = "Tell me a long story about a cat who learns to sail. ".repeat(8);
  const clientMessageId = `in-flight-${Date.now()}`;
  const { runId } = await post(`/v1/conversations/${conversation.id}/runs`, { content, clientMessageId });
  ctx.ledger.runs.add(runId as string);
  ctx.ledger.acks.push({ userId: ctx.probe, clientMessageId, conversationId: conversation.id as string, seq: 1, content });
  const record: FollowRecord = { runId: runId as string, seen: [], reconnects: 0, via: "sse", finished: false };
  ctx.ledger.follows.push(record);
  ctx.followers.push(followSse(ctx.client, runId as string, record, () => false));
  for (let i = 0; i < 100 && record.seen.length < 3; i++) await sleep(50);
}

/** Runs the load while `faults` are injected one after the other; answers the ledger and the faults. */
async function loadWithFaults(
  urls: string[],
  faults: { name: string; inject: (ctx: FaultContext) => Promise<void> | void }[],
): Promise<{ ledger: Ledger; done: Fault[]; loadMs: number }> {
  const ledger = new Ledger();
  const client = new Client(urls, ledger);
  let stopping = false;
  const started = Date.now();
  const workers = Array.from({ length: WORKERS }, (_, i) => userWorker(client, ledger, i, () => stopping));
  const probe = await probeUser(urls[0] as string);
  const done: Fault[] = [];
  const followers: Promise<void>[] = [];
  for (const fault of faults) {
    await sleep(PHASE_S * 1000);
    const start = Date.now();
    await fault.inject({ client, ledger, probe, followers });
    const causeEnded = Date.now();
    const recoveryMs = await recovery(urls, probe, start);
    const afterCauseMs = recoveryMs - (causeEnded - start);
    done.push({ name: fault.name, start, end: start + recoveryMs, recoveryMs, afterCauseMs });
    console.log(
      `  fault: ${fault.name.padEnd(44)} recovered in ${(recoveryMs / 1000).toFixed(2)} s (${(afterCauseMs / 1000).toFixed(2)} s after the cause ended)`,
    );
  }
  await sleep(PHASE_S * 1000);
  stopping = true;
  await Promise.all([...workers, ...followers]);
  return { ledger, done, loadMs: Date.now() - started };
}

/** Waits (at most a minute) until no run of the ledger is running: the sweep ends a killed node's runs at lease expiry. */
async function settleRuns(url: string, ledger: Ledger): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (const runId of ledger.runs) {
    while (Date.now() < deadline) {
      const res = await fetch(`${url}/v1/runs/${runId}`).catch(() => undefined);
      const run = (await res?.json().catch(() => undefined)) as { status?: string } | undefined;
      if (run?.status && run.status !== "running") break;
      await sleep(200);
    }
  }
}

/** A port nobody listens on (in [from, to] when given). */
async function freePort(from?: number, to?: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(undefined));
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : undefined));
      });
    });
  if (from === undefined || to === undefined) return (await tryPort(0)) as number;
  const offset = process.pid % (to - from + 1);
  for (let i = 0; i <= to - from; i++) {
    const port = from + ((offset + i) % (to - from + 1));
    if (await tryPort(port)) return port;
  }
  throw new Error(`no free port in ${from}–${to}`);
}

function report(
  engine: string,
  ledger: Ledger,
  faults: Fault[],
  result: { problems: string[]; counts: Record<string, number> },
  exits: string[],
  loadMs: number,
) {
  const outside = ledger.serviceUnavailable.filter((s) => !faults.some((f) => s.at >= f.start && s.at <= f.end + GRACE_MS));
  const problems = [
    ...result.problems,
    ...ledger.fiveHundreds.map((s) => `5xx answer: ${s}`),
    ...outside.map((s) => `503 outside a fault window: ${s.what}`),
    ...exits,
  ];
  console.log(`\n== ${engine}: ${(loadMs / 1000).toFixed(0)} s of load, ${WORKERS} users`);
  console.log(`  operations (HTTP answers) ${ledger.ops}, network errors retried ${ledger.networkErrors}`);
  console.log(`  answers by status ${JSON.stringify(Object.fromEntries([...ledger.statuses].sort(([a], [b]) => a - b)))}`);
  console.log(
    `  acknowledged writes ${result.counts.acknowledged}, lost ${result.counts.lost}, duplicated ${result.counts.duplicated}`,
  );
  console.log(
    `  500s ${ledger.fiveHundreds.length}, 503s ${ledger.serviceUnavailable.length} (outside fault windows ${outside.length}), nodes exited by themselves ${exits.length}`,
  );
  console.log(`  counts ${JSON.stringify(result.counts)}`);
  for (const f of faults) {
    console.log(
      `  recovery after ${f.name}: ${(f.recoveryMs / 1000).toFixed(2)} s from the fault, ${((f.afterCauseMs ?? 0) / 1000).toFixed(2)} s after the cause ended`,
    );
  }
  for (const p of problems.slice(0, 30)) console.log(`  PROBLEM ${p}`);
  if (problems.length > 30) console.log(`  … ${problems.length - 30} more problems`);
  console.log(problems.length === 0 ? "  OK" : `  FAILED: ${problems.length} problems`);
  return problems.length;
}

async function soakPostgres(): Promise<number> {
  const port = await freePort(55400, 55499);
  const logDir = mkdtempSync(join(tmpdir(), "convo-soak-logs-"));
  console.log(`PostgreSQL soak: throwaway cluster on port ${port}, logs in ${logDir}`);
  const cluster = startCluster(port);
  const appName = "convo_soak";
  const env = nodeEnv({ DATABASE_URL: `${cluster.url}?application_name=${appName}`, CONVO_POOL_SIZE: "8" });
  const nodes = [
    new SoakNode({ name: "a", port: await freePort(), env, logDir }),
    new SoakNode({ name: "b", port: await freePort(), env, logDir }),
  ];
  const admin = new pg.Pool({ connectionString: cluster.url, max: 2 });
  admin.on("error", () => {});
  const query: Query = async (text, params) => (await admin.query(text, params as unknown[])).rows;
  let failed = true;
  try {
    // One node migrates first; the second starts on the migrated schema.
    await nodes[0]!.start();
    await nodes[1]!.start();
    const [a] = nodes as [SoakNode, SoakNode];
    const { ledger, done, loadMs } = await loadWithFaults(
      nodes.map((n) => n.url),
      [
        {
          name: "kill -9 of node a mid-run, restart",
          inject: async (ctx) => {
            await runInFlight(a.url, ctx);
            a.kill9();
            await sleep(500);
            await a.start();
          },
        },
        { name: "pg_ctl restart -m immediate", inject: async () => cluster.restartImmediate() },
        {
          name: "pg_terminate_backend of every app connection",
          inject: async () => {
            await query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [appName]);
          },
        },
      ],
    );
    await settleRuns(nodes[1]!.url, ledger);
    // One of the faults above crashes PostgreSQL (see CheckOptions.databaseCrashed).
    const result = await check(query, ledger, { databaseCrashed: true });
    const exits = nodes.flatMap((n) => n.unexpectedExits);
    for (const node of nodes) {
      const code = await node.stop();
      if (code !== 0 && code !== null) exits.push(`${node.options.name} exited with ${code} on SIGTERM`);
    }
    const problems = report("PostgreSQL, 2 nodes", ledger, done, result, exits, loadMs);
    failed = problems > 0;
    return problems;
  } finally {
    for (const node of nodes) if (node.child?.pid) node.kill9();
    await admin.end().catch(() => {});
    cluster.stop();
    if (!failed) rmSync(logDir, { recursive: true, force: true });
  }
}

async function soakPglite(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "convo-soak-pglite-"));
  const dataDir = join(dir, "data");
  console.log(`PGlite soak: data directory ${dataDir}`);
  const node = new SoakNode({
    name: "pglite",
    port: await freePort(),
    env: nodeEnv({ CONVO_DATA_DIR: dataDir }),
    logDir: dir,
  });
  try {
    await node.start();
    const { ledger, done, loadMs } = await loadWithFaults(
      [node.url],
      [
        {
          name: "kill -9 of the node, restart on the same directory",
          inject: async (ctx) => {
            await runInFlight(node.url, ctx);
            node.kill9();
            await sleep(500);
            await node.start();
          },
        },
      ],
    );
    await settleRuns(node.url, ledger);
    const exits = [...node.unexpectedExits];
    const code = await node.stop();
    if (code !== 0 && code !== null) exits.push(`pglite node exited with ${code} on SIGTERM`);
    const db = await PGlite.create(dataDir);
    const query: Query = async (text, params) => (await db.query(text, params as unknown[])).rows as never;
    try {
      const result = await check(query, ledger);
      return report("PGlite, 1 node", ledger, done, result, exits, loadMs);
    } finally {
      await db.close();
    }
  } finally {
    if (node.child?.pid) node.kill9();
    rmSync(dir, { recursive: true, force: true });
  }
}

let failures = 0;
const started = Date.now();
if (only !== "pglite") failures += await soakPostgres();
if (only !== "postgres") failures += await soakPglite();
console.log(
  `\nsoak ${quick ? "(quick) " : ""}finished in ${((Date.now() - started) / 1000).toFixed(0)} s: ${failures === 0 ? "OK" : `${failures} problems`}`,
);
process.exit(failures === 0 ? 0 : 1);

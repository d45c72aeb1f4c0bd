/**
 * W4 and W5 (DESIGN.md §5, issue 4).
 * W4: run start → first stored event (the start call stores the user message, the run
 * and its first event in one transaction and answers), by library and over HTTP; and
 * model token → SSE client (the bench model stamps each token with its emit time).
 * W5: N SSE followers of one run on one node (N = 100, 500, 1,000): delivery latency
 * from token to every follower. Clients run in a worker thread (own event loop);
 * the server runs in this process with the bench model registered.
 * Targets (issue 10): start p99 < 5 ms (library) and < 10 ms (HTTP) on PostgreSQL; token → client p99 < 75 ms; 1,000 followers.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Convo, openConvo } from "@convo/core";
import pg from "pg";
import { type RunningServer, startServer } from "../../packages/server/src/server.js";
import { jsonClient } from "../http/client.js";
import { type ServerProcess, startFakeModelServer, startServerProcess } from "../http/server-process.js";
import { databaseUrl, type EngineName, engineLabel, selectedEngines, sharedPglite } from "../lib/engines.js";
import { progress } from "../lib/log.js";
import { percentile, type Stats, summarize } from "../lib/stats.js";
import { markdownTable, ms, ops } from "../lib/table.js";
import { runOps } from "../lib/timing.js";
import type { WorkloadOptions } from "../lib/workload.js";
import { benchModel } from "../runs/bench-model.js";
import { startSwarm } from "../runs/swarm.js";

export const id = "runs";
export const title = "W4 run start and token → client, W5 SSE followers (issue 4)";

interface Setup {
  convo: Convo;
  server: RunningServer;
  open(gate: Promise<void>): void;
  close(): Promise<void>;
}

async function setUp(engine: EngineName): Promise<Setup> {
  const schema = `bench_runs_${randomBytes(4).toString("hex")}`;
  let gate: Promise<void> = Promise.resolve();
  const models = {
    "bench-fast": benchModel({ tokens: 1, intervalMs: 0 }),
    // An answer of 10 tokens over 180 ms: the runs started before a start still stream.
    "bench-answer": benchModel({ tokens: 10, intervalMs: 20 }),
    "bench-stream": benchModel({ tokens: 50, intervalMs: 20, gate: () => gate }),
    "bench-gated": benchModel({ tokens: 100, intervalMs: 20, gate: () => gate }),
  };
  const runs = { models: { models }, maxRunsPerNode: 10_000, maxRunsPerUser: 10_000 };
  const convo =
    engine === "postgres"
      ? await openConvo({ databaseUrl, schema, poolSize: 16, runs })
      : await openConvo({ pglite: await sharedPglite(), schema, runs });
  const server = await startServer(
    {
      dataDir: "unused",
      port: 0,
      host: "127.0.0.1",
      bodyLimit: 1 << 20,
      rateLimitUser: 1e9,
      rateLimitAdmin: 1e9,
      // W5 follows one run of one user with up to thousands of streams.
      maxStreamsPerUser: 1e9,
      maxStreamsPerNode: 1e9,
      corsOrigins: [],
      sweepIntervalMs: 0,
      logLevel: "silent",
    },
    { convo },
  );
  return {
    convo,
    server,
    open(next) {
      gate = next;
    },
    async close() {
      await server.close();
      await convo.close();
      if (engine === "postgres") {
        await dropPostgresSchema(schema);
      } else {
        await (await sharedPglite()).exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; SET search_path TO public`);
      }
    },
  };
}

/** Drops a benchmark's schema on the PostgreSQL at BENCH_DATABASE_URL. */
async function dropPostgresSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function conversations(convo: Convo, userId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await convo.conversations.create(userId)).id);
  return ids;
}

async function waitFinished(convo: Convo, userId: string, runId: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((await convo.runs.get(userId, runId)).status !== "running") return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until no run executes on this node (the next measure starts on a quiet engine). */
async function settle(convo: Convo): Promise<void> {
  for (let i = 0; i < 3000 && convo.runs.stats.executing > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function openStreams(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^convo_sse_streams_open (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

const latencyStats = (latencies: number[]): Stats => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    opsPerSec: Number.NaN,
    cpuMsPerOp: Number.NaN,
  };
};

/** One start every `gapMs` after the previous one answered (still concurrency 1): latencies exclude the gap. */
async function paced(n: number, gapMs: number, op: (i: number) => Promise<unknown>): Promise<Stats> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await op(i);
    latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return latencyStats(latencies);
}

/** The pause between paced starts: 50 starts/s, about 9 answers streaming at any time. */
const PACE_MS = 20;

interface EngineResult {
  startLibrary: Stats;
  startPaced: Stats;
  startBurst: Stats;
  startHttp: Stats;
  startHttpPaced: Stats;
  token: Stats;
  followers: { n: number; stats: Stats; ended: number; max: number }[];
}

/**
 * W4 over HTTP, as deployed: `convo serve` in a child process (its own event loop, as
 * in the HTTP workload), its model an OpenAI-compatible server in another process
 * (bench/runs/fake-model-server.mjs: 10 tokens 20 ms apart, reached through the AI
 * SDK's provider), driven from this process. Back to back, then paced.
 */
async function measureHttpStarts(engine: EngineName, starts: number): Promise<{ backToBack: Stats; paced: Stats }> {
  const model = await startFakeModelServer({ FAKE_TOKENS: "10", FAKE_INTERVAL_MS: "20" });
  const schema = `bench_runs_http_${randomBytes(4).toString("hex")}`;
  const dataDir = engine === "pglite" ? await mkdtemp(join(tmpdir(), "convo-bench-runs-")) : undefined;
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({
      ...(dataDir ? { CONVO_DATA_DIR: dataDir } : { DATABASE_URL: databaseUrl, CONVO_SCHEMA: schema, CONVO_POOL_SIZE: "16" }),
      OPENAI_BASE_URL: `${model.url}/v1`,
      OPENAI_API_KEY: "bench",
      CONVO_MODEL: "openai:bench",
      CONVO_MAX_RUNS_PER_NODE: "10000",
      CONVO_MAX_RUNS_PER_USER: "10000",
    });
    const client = jsonClient(server.url, 4);
    try {
      const targets: { userId: string; conversationId: string }[] = [];
      for (let i = 0; i < 2 * starts + 20; i++) {
        const { json: user } = await client.request<{ id: string }>("POST", "/v1/users", {
          externalId: `bench-http-start-${i}`,
        });
        const { json: conversation } = await client.request<{ id: string }>("POST", `/v1/users/${user.id}/conversations`, {});
        targets.push({ userId: user.id, conversationId: conversation.id });
      }
      let last: { userId: string; runId: string } | undefined;
      const post = async (target: { userId: string; conversationId: string }) => {
        const answer = await client.request<{ runId: string }>(
          "POST",
          `/v1/conversations/${target.conversationId}/runs`,
          { content: "Привет" },
          { "x-convo-user-id": target.userId },
        );
        if (answer.status !== 202) throw new Error(`start answered ${answer.status}: ${JSON.stringify(answer.json)}`);
        last = { userId: target.userId, runId: answer.json.runId };
      };
      /** Until the last run started has ended (runs end in start order), and a moment more. */
      const settleHttp = async () => {
        for (let i = 0; i < 500 && last; i++) {
          const { json } = await client.request<{ status: string }>("GET", `/v1/runs/${last.runId}`, undefined, {
            "x-convo-user-id": last.userId,
          });
          if (json.status !== "running") break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      };
      await runOps(0, 20, 1, (i) => post(targets[2 * starts + i]!));
      await settleHttp();
      const backToBack = summarize(await runOps(0, starts, 1, (i) => post(targets[i]!)));
      progress(`${engineLabel[engine]} start (HTTP): p50 ${ms(backToBack.p50)} p99 ${ms(backToBack.p99)}`);
      await settleHttp();
      const pacedStats = await paced(starts, PACE_MS, (i) => post(targets[starts + i]!));
      progress(`${engineLabel[engine]} start (HTTP, paced): p50 ${ms(pacedStats.p50)} p99 ${ms(pacedStats.p99)}`);
      await settleHttp();
      return { backToBack, paced: pacedStats };
    } finally {
      client.close();
    }
  } finally {
    await server?.stop();
    await model.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    else await dropPostgresSchema(schema);
  }
}

async function measureEngine(engine: EngineName, quick: boolean): Promise<EngineResult> {
  const setup = await setUp(engine);
  const { convo, server } = setup;
  try {
    const { user } = await convo.users.create({ externalId: "bench-runs" });
    const starts = quick ? 50 : 300;
    // W4a (issue 10): each start by a different user, in a conversation of its own, while
    // the runs started before it still stream their answers (10 tokens over 180 ms).
    const startsFor = async (n: number) => {
      const out: { userId: string; conversationId: string }[] = [];
      for (let i = 0; i < n; i++) {
        const { user: starter } = await convo.users.create({ externalId: `bench-start-${randomBytes(6).toString("hex")}` });
        out.push({ userId: starter.id, conversationId: (await convo.conversations.create(starter.id)).id });
      }
      return out;
    };
    const forLibrary = await startsFor(starts + 20);
    const forLibraryPaced = await startsFor(starts);
    const startIn = (target: { userId: string; conversationId: string }, model: string) =>
      convo.runs.start(target.userId, target.conversationId, { content: "Привет", model });
    await runOps(0, 20, 1, (i) => startIn(forLibrary[starts + i]!, "bench-answer"));
    const startLibrary = summarize(await runOps(0, starts, 1, (i) => startIn(forLibrary[i]!, "bench-answer")));
    progress(`${engineLabel[engine]} start (library): p50 ${ms(startLibrary.p50)} p99 ${ms(startLibrary.p99)}`);
    await settle(convo);
    // The same below the rate at which this process saturates (see docs/performance.md, "Run start").
    const startPaced = await paced(starts, PACE_MS, (i) => startIn(forLibraryPaced[i]!, "bench-answer"));
    progress(`${engineLabel[engine]} start (library, paced): p50 ${ms(startPaced.p50)} p99 ${ms(startPaced.p99)}`);
    await settle(convo);
    // The same with one-token answers from one user: each run's whole work (context, model,
    // answer) lands right on top of the next start.
    const burst = await conversations(convo, user.id, starts);
    const startBurst = summarize(
      await runOps(0, starts, 1, (i) => convo.runs.start(user.id, burst[i]!, { content: "Привет", model: "bench-fast" })),
    );
    progress(`${engineLabel[engine]} start (library, one-token runs): p50 ${ms(startBurst.p50)} p99 ${ms(startBurst.p99)}`);
    await settle(convo);
    const { backToBack: startHttp, paced: startHttpPaced } = await measureHttpStarts(engine, starts);

    // W4b: token → SSE client, one follower, runs of 50 tokens 20 ms apart.
    const tokenLatencies: number[] = [];
    const streamConversations = await conversations(convo, user.id, quick ? 3 : 10);
    for (const conversationId of streamConversations) {
      // The model streams once the follower is connected: a token emitted before the
      // client's request arrived would measure the client's start-up, not delivery.
      let release!: () => void;
      setup.open(new Promise<void>((resolve) => (release = resolve)));
      const { run } = await convo.runs.start(user.id, conversationId, { content: "stream", model: "bench-stream" });
      const swarm = startSwarm(server.url, `/v1/runs/${run.id}/stream`, 1);
      for (let i = 0; i < 600 && (await openStreams(server.url)) < 1; i++) await new Promise((r) => setTimeout(r, 10));
      release();
      tokenLatencies.push(...(await swarm.done).latencies);
      await waitFinished(convo, user.id, run.id);
    }
    const token = latencyStats(tokenLatencies);
    progress(`${engineLabel[engine]} token → client: p50 ${ms(token.p50)} p99 ${ms(token.p99)} (${token.n} tokens)`);

    // W5: N followers of one run; the model waits until every follower is connected.
    const followers: EngineResult["followers"] = [];
    for (const n of quick ? [100] : [100, 500, 1000]) {
      let release!: () => void;
      setup.open(new Promise<void>((resolve) => (release = resolve)));
      const [conversationId] = await conversations(convo, user.id, 1);
      const { run } = await convo.runs.start(user.id, conversationId!, { content: "followers", model: "bench-gated" });
      const swarm = startSwarm(server.url, `/v1/runs/${run.id}/stream`, n);
      for (let i = 0; i < 600 && (await openStreams(server.url)) < n; i++) await new Promise((r) => setTimeout(r, 100));
      release();
      const result = await swarm.done;
      await waitFinished(convo, user.id, run.id);
      const stats = latencyStats(result.latencies);
      followers.push({ n, stats, ended: result.ended, max: Math.max(...result.latencies) });
      progress(
        `${engineLabel[engine]} ${n} followers: p50 ${ms(stats.p50)} p99 ${ms(stats.p99)}; ${result.ended}/${n} streams ended normally`,
      );
    }
    return { startLibrary, startPaced, startBurst, startHttp, startHttpPaced, token, followers };
  } finally {
    await setup.close();
  }
}

export async function run(opts: WorkloadOptions): Promise<string> {
  const parts = [
    `## ${title}`,
    "",
    "Latencies in ms. Start = the call that stores the user message, the run and its first event in one statement",
    "(so start → first stored event is the start call itself); HTTP start is `POST /v1/conversations/:id/runs` → 202,",
    "to `convo serve` in a child process whose model is an OpenAI-compatible server in another process",
    "(bench/runs/fake-model-server.mjs, 10 tokens 20 ms apart, through the AI SDK's provider); the library rows run the",
    "engine in this process with an in-process model of the same shape.",
    "As in issue 10, each start is by a different user while the runs started before it still stream (answers of 10",
    "tokens over 180 ms); the one-token row starts runs of one user whose whole work comes at once, on top of the next start.",
    "Token → client: the bench model stamps each token with its emit time; an SSE client (worker thread) records",
    "its arrival. The first delta of an answer is written at once, later ones are coalesced (flush every 50 ms), so",
    "up to 50 ms of this is the deliberate batching. Targets (issue 10): start p99 < 5 ms (library) and < 10 ms",
    "(HTTP) on PostgreSQL, token → SSE client p99 < 75 ms. Back to back, the starts saturate this process (a",
    'start cannot take less than the Node CPU one run costs; docs/performance.md, "Run start"); the paced rows',
    "start one run every 20 ms after the previous start answered, below that rate.",
    "The model starts streaming once the follower's stream is open (as in W5), so no token is counted that was",
    "emitted before its client connected. W5: N clients follow one run's SSE stream; the model starts only once all",
    "N streams are open.",
  ];
  for (const engine of selectedEngines()) {
    const r = await measureEngine(engine, opts.quick);
    parts.push(
      "",
      `### ${engineLabel[engine]}`,
      "",
      markdownTable(
        ["measure", "n", "p50", "p99", "notes"],
        [
          [
            "W4 start (library)",
            String(r.startLibrary.n),
            ms(r.startLibrary.p50),
            ms(r.startLibrary.p99),
            `${ops(r.startLibrary.opsPerSec)} starts/s at concurrency 1, a user each, earlier runs streaming`,
          ],
          [
            "W4 start (library), paced",
            String(r.startPaced.n),
            ms(r.startPaced.p50),
            ms(r.startPaced.p99),
            `a start ${PACE_MS} ms after the previous one answered (50/s, ~9 answers streaming)`,
          ],
          [
            "W4 start (library), one-token runs",
            String(r.startBurst.n),
            ms(r.startBurst.p50),
            ms(r.startBurst.p99),
            `${ops(r.startBurst.opsPerSec)} starts/s; one user; each run's whole work lands on the next start`,
          ],
          [
            "W4 start (HTTP 202)",
            String(r.startHttp.n),
            ms(r.startHttp.p50),
            ms(r.startHttp.p99),
            `${ops(r.startHttp.opsPerSec)} starts/s at concurrency 1; \`convo serve\` in its own process, model over HTTP`,
          ],
          [
            "W4 start (HTTP 202), paced",
            String(r.startHttpPaced.n),
            ms(r.startHttpPaced.p50),
            ms(r.startHttpPaced.p99),
            `a start ${PACE_MS} ms after the previous one answered`,
          ],
          ["W4 token → SSE client", String(r.token.n), ms(r.token.p50), ms(r.token.p99), "one follower, 50 tokens 20 ms apart"],
          ...r.followers.map((f) => [
            `W5 ${f.n.toLocaleString("en-US")} followers`,
            String(f.stats.n),
            ms(f.stats.p50),
            ms(f.stats.p99),
            `max ${ms(f.max)}; ${f.ended}/${f.n} streams complete`,
          ]),
        ],
        ["left", "right", "right", "right", "left"],
      ),
    );
  }
  return parts.join("\n");
}

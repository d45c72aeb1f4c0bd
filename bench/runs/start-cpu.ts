/**
 * Node CPU per run and start latency at concurrency 1 on PostgreSQL, by kind of run:
 * `burst` (one-token answers of one user: a run's whole work lands on the next start)
 * and `stream` (10-token answers over 180 ms, a user each: earlier runs still stream).
 * Also the event-loop delay and GC pauses over each measure. It runs the built package
 * (`npm run build` first). Run: `npx tsx bench/runs/start-cpu.ts [starts] [kinds] [gap ms]`,
 * e.g. `npx tsx bench/runs/start-cpu.ts 300 stream,burst 20`; a gap paces the starts
 * (still one at a time) below the rate at which the process saturates.
 */
import { randomBytes } from "node:crypto";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { openConvo } from "@convo/core";
import pg from "pg";
import { percentile } from "../lib/stats.js";
import { benchModel } from "./bench-model.js";

const databaseUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `bench_start_${randomBytes(3).toString("hex")}`;
const starts = Number(process.argv[2] ?? 300);
const kinds = (process.argv[3] ?? "stream,burst").split(",");
const gapMs = Number(process.argv[4] ?? 0);
const models = { burst: benchModel({ tokens: 1, intervalMs: 0 }), stream: benchModel({ tokens: 10, intervalMs: 20 }) };
const convo = await openConvo({
  databaseUrl,
  schema,
  poolSize: 16,
  runs: { models: { models }, maxRunsPerNode: 1e5, maxRunsPerUser: 1e5 },
});
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const gcs: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcs.push(entry.duration);
}).observe({ entryTypes: ["gc"] });
const fixed = (n: number) => n.toFixed(2);
try {
  const { user: burstUser } = await convo.users.create({ externalId: "bench-start-burst" });
  for (const kind of kinds) {
    if (kind !== "burst" && kind !== "stream") throw new Error(`unknown kind ${kind}: burst or stream`);
    const targets: { userId: string; conversationId: string }[] = [];
    for (let i = 0; i < starts + 20; i++) {
      const userId =
        kind === "burst"
          ? burstUser.id
          : (await convo.users.create({ externalId: `s-${randomBytes(6).toString("hex")}` })).user.id;
      targets.push({ userId, conversationId: (await convo.conversations.create(userId)).id });
    }
    const latencies: number[] = [];
    const cpu0 = process.cpuUsage();
    loop.reset();
    gcs.length = 0;
    for (const [i, t] of targets.entries()) {
      const started = performance.now();
      await convo.runs.start(t.userId, t.conversationId, { content: "Привет", model: kind });
      if (i >= 20) latencies.push(performance.now() - started);
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    const cpu = process.cpuUsage(cpu0);
    while (convo.runs.stats.executing > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    latencies.sort((a, b) => a - b);
    console.log(
      `${kind}: start p50 ${fixed(percentile(latencies, 0.5))} p99 ${fixed(percentile(latencies, 0.99))} ms; ` +
        `Node CPU ${fixed((cpu.user + cpu.system) / 1000 / targets.length)} ms per run; ` +
        `event-loop delay p99 ${fixed(loop.percentile(99) / 1e6)} ms; GC ${gcs.length} pauses, max ${fixed(Math.max(0, ...gcs))} ms`,
    );
  }
} finally {
  await convo.close();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

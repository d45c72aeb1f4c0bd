/**
 * Start-up figures of the `convo` command (issue 8): `convo --help` time, `convo serve`
 * ready time on a fresh PGlite directory and on PostgreSQL (a fresh schema), idle RSS
 * once ready, and the largest source files. Run it against any checkout, so the
 * layout before and after a change is measured on one machine in one sitting:
 *
 *   npx tsx bench/startup/measure.ts [repo root, default this one] [runs, default 5]
 *
 * Needs TEST_DATABASE_URL (or DATABASE_URL) for the PostgreSQL row; prints Markdown.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const root = resolve(process.argv[2] ?? fileURLToPath(new URL("../..", import.meta.url)));
const runs = Number(process.argv[3] ?? 5);
const bin = join(root, "packages/server/bin/convo.js");
const pgUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Wall time of `convo --help`, in ms. */
function helpTime(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, "--help"], { cwd: root, stdio: "ignore" });
  return new Promise((ok, fail) => {
    child.once("exit", (code) => (code === 0 ? ok(performance.now() - started) : fail(new Error(`--help exited ${code}`))));
  });
}

/** Time until `convo serve` prints its URL, and its RSS two seconds later (KiB). */
async function serveReady(env: Record<string, string>): Promise<{ ms: number; rssKiB: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--sweep-interval", "0"], {
    cwd: root,
    env: { ...process.env, CONVO_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const ms = await new Promise<number>((ok, fail) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (/listening on http/.test(output)) ok(performance.now() - started);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => fail(new Error(`serve exited ${code}: ${output.slice(-500)}`)));
  });
  await new Promise((r) => setTimeout(r, 2000));
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
  return { ms, rssKiB };
}

const help: number[] = [];
for (let i = 0; i < runs; i++) help.push(await helpTime());

const pglite: { ms: number; rssKiB: number }[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), "convo-startup-"));
  try {
    pglite.push(await serveReady({ CONVO_DATA_DIR: join(dir, "data") }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const postgres: { ms: number; rssKiB: number }[] = [];
if (pgUrl) {
  for (let i = 0; i < runs; i++) {
    const schema = `startup_${process.pid}_${i}`;
    try {
      postgres.push(await serveReady({ DATABASE_URL: pgUrl, CONVO_SCHEMA: schema }));
    } finally {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
}

const files = readdirSync(join(root, "packages"))
  .flatMap((pkg) => {
    const src = join(root, "packages", pkg, "src");
    try {
      return readdirSync(src, { recursive: true, encoding: "utf8" }).map((f) => join("packages", pkg, "src", f));
    } catch {
      return [];
    }
  })
  .filter((f) => /\.tsx?$/.test(f))
  .map((f) => ({ f, bytes: statSync(join(root, f)).size, lines: readFileSync(join(root, f), "utf8").split("\n").length }))
  .sort((a, b) => b.bytes - a.bytes)
  .slice(0, 5);

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`Checkout: ${relative(process.cwd(), root) || "."}, ${runs} runs each, medians`);
console.log("");
console.log("| figure | value |");
console.log("|---|---|");
console.log(`| \`convo --help\` | ${fmt(median(help))} |`);
console.log(`| \`convo serve\` ready, fresh PGlite directory | ${fmt(median(pglite.map((r) => r.ms)))} |`);
console.log(`| idle RSS after ready, PGlite | ${Math.round(median(pglite.map((r) => r.rssKiB)) / 1024)} MiB |`);
if (postgres.length > 0) {
  console.log(`| \`convo serve\` ready, PostgreSQL (fresh schema) | ${fmt(median(postgres.map((r) => r.ms)))} |`);
  console.log(`| idle RSS after ready, PostgreSQL | ${Math.round(median(postgres.map((r) => r.rssKiB)) / 1024)} MiB |`);
}
console.log(
  `| largest source files | ${files.map((x) => `${x.f.replace("packages/", "")} ${(x.bytes / 1024).toFixed(1)} KB`).join(", ")} |`,
);

/** What the numbers were measured on: the header of docs/benchmarks.md. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import pg from "pg";
import { databaseUrl, type EngineName, sharedPglite } from "./engines.js";

function cpuCount(): string {
  try {
    return execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    return String(os.availableParallelism());
  }
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) return line.split(":").slice(1).join(":").trim();
  } catch {
    // Not Linux: fall through to what Node knows.
  }
  return os.cpus()[0]?.model ?? "unknown";
}

function pglitePackageVersion(): string {
  try {
    const url = new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url);
    return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

async function postgresInfo(): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const settings = ["server_version", "fsync", "synchronous_commit", "shared_buffers"];
    const values: string[] = [];
    for (const name of settings) {
      const { rows } = await client.query(`SHOW ${name}`);
      values.push(String(Object.values(rows[0] ?? {})[0]));
    }
    const [version, fsync, syncCommit, sharedBuffers] = values;
    const host = new URL(databaseUrl).host;
    return `${version} at ${host} (fsync ${fsync}, synchronous_commit ${syncCommit}, shared_buffers ${sharedBuffers})`;
  } finally {
    await client.end();
  }
}

async function pgliteInfo(): Promise<string> {
  const db = await sharedPglite();
  const { rows } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  return `@electric-sql/pglite ${pglitePackageVersion()} (PostgreSQL ${rows[0]?.v ?? "?"} in WebAssembly, in process, \`memory://\`, never fsyncs)`;
}

/** The machine and engines as Markdown list items. */
export async function machineLines(engines: EngineName[]): Promise<string[]> {
  const memoryGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return [
    `- CPU: ${cpuCount()} × ${cpuModel()} (\`nproc\` and /proc/cpuinfo)`,
    `- Memory: ${memoryGiB} GiB`,
    `- Node.js ${process.version} (${process.platform} ${process.arch})`,
    `- PostgreSQL: ${engines.includes("postgres") ? await postgresInfo() : "not measured in this run"}`,
    `- PGlite: ${engines.includes("pglite") ? await pgliteInfo() : `@electric-sql/pglite ${pglitePackageVersion()}, not measured in this run`}`,
  ];
}

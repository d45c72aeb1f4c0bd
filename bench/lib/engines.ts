/**
 * The engines a benchmark runs on, each opened in a fresh schema (`bench_<random>`)
 * that is dropped afterwards: PostgreSQL by URL, and PGlite in memory (one instance
 * per run, see `sharedPglite`). Each engine
 * gives the library (`convo`) and a raw handle on the same schema (`raw`): a `pg`
 * Pool on PostgreSQL, the PGlite client itself on PGlite — the floor no layer beats.
 */
import { randomBytes } from "node:crypto";
import { type Convo, openConvo } from "@convo/core";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { progress } from "./log.js";

export type EngineName = "postgres" | "pglite";

/** Every engine, in report order. */
export const ALL_ENGINES: EngineName[] = ["postgres", "pglite"];

/** Human names for tables. */
export const engineLabel: Record<EngineName, string> = { postgres: "PostgreSQL", pglite: "PGlite" };

/** Where the PostgreSQL runs (`BENCH_DATABASE_URL` overrides). */
export const databaseUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Connections on each side. Both the library and the raw pool get the same number,
 * and it covers the highest concurrency measured (16), so neither side queues for a
 * connection the other would have had.
 */
export const POOL_SIZE = 16;

/** Runs one SQL statement and answers its rows. */
export type RawQuery = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/** The raw driver on the benchmark's schema, without any of Convo's layers. */
export interface RawDb {
  query: RawQuery;
  /** BEGIN … COMMIT on one connection (ROLLBACK and rethrow on failure). */
  transaction<T>(fn: (query: RawQuery) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (seeding); answers nothing. */
  exec(script: string): Promise<void>;
}

/** One engine opened for one workload, in its own schema. */
export interface BenchEngine {
  name: EngineName;
  label: string;
  schema: string;
  convo: Convo;
  raw: RawDb;
}

/**
 * The engines selected for this run: `BENCH_ENGINES` (comma-separated), set by
 * bench/run.ts from `--engines=` and from whether PostgreSQL answered.
 */
export function selectedEngines(): EngineName[] {
  const list = process.env.BENCH_ENGINES?.split(",").map((s) => s.trim()) ?? ALL_ENGINES;
  return ALL_ENGINES.filter((name) => list.includes(name));
}

/** Answers true when the PostgreSQL at `databaseUrl` accepts a connection. */
export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const freshSchemaName = () => `bench_${randomBytes(4).toString("hex")}`;

async function openPostgresEngine(schema: string): Promise<BenchEngine & { close(): Promise<void> }> {
  const convo = await openConvo({ databaseUrl, schema, poolSize: POOL_SIZE });
  // The same session settings the library gives its pool, so both see the same schema and time zone.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: POOL_SIZE,
    options: `-c search_path=${schema} -c TimeZone=UTC`,
  });
  pool.on("error", () => {});
  const query: RawQuery = async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[];
  const raw: RawDb = {
    query,
    async transaction(fn) {
      const client = await pool.connect();
      const onClient: RawQuery = async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[];
      try {
        await client.query("BEGIN");
        const result = await fn(onClient);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async exec(script) {
      await pool.query(script);
    },
  };
  return {
    name: "postgres",
    label: engineLabel.postgres,
    schema,
    convo,
    raw,
    async close() {
      await convo.close();
      try {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await pool.end();
      }
    },
  };
}

let pglite: Promise<PGlite> | undefined;

/**
 * The run's in-memory PGlite (`memory://`), started on first use. Starting one costs
 * seconds (WebAssembly), so workloads share it, each in its own fresh schema that is
 * dropped afterwards; bench/run.ts closes it at the end.
 */
export function sharedPglite(): Promise<PGlite> {
  pglite ??= PGlite.create("memory://");
  return pglite;
}

/** Closes the shared PGlite, if one was started. */
export async function closeSharedPglite(): Promise<void> {
  const started = pglite;
  pglite = undefined;
  if (started) await (await started).close();
}

async function openPgliteEngine(schema: string): Promise<BenchEngine & { close(): Promise<void> }> {
  // Handing the client to Convo lets the raw side use the very same connection
  // (PGlite has only one), with the search_path Convo set on it.
  const client = await sharedPglite();
  const convo = await openConvo({ pglite: client, schema });
  const query: RawQuery = async <T>(text: string, params?: unknown[]) => (await client.query<T>(text, params)).rows;
  const raw: RawDb = {
    query,
    transaction(fn) {
      // PGlite's own transaction() serialises with other work on the connection and
      // rolls back on a throw, exactly as the library's driver does.
      return client.transaction((tx) =>
        fn(async <T>(text: string, params?: unknown[]) => (await tx.query<T>(text, params)).rows),
      );
    },
    async exec(script) {
      await client.exec(script);
    },
  };
  return {
    name: "pglite",
    label: engineLabel.pglite,
    schema,
    convo,
    raw,
    async close() {
      await convo.close();
      await client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; SET search_path TO public`);
    },
  };
}

/**
 * Opens `name` in a fresh schema, runs `fn`, then closes it and drops the schema —
 * also when `fn` throws.
 */
export async function withEngine<T>(name: EngineName, fn: (engine: BenchEngine) => Promise<T>): Promise<T> {
  const schema = freshSchemaName();
  const started = Date.now();
  const engine = name === "postgres" ? await openPostgresEngine(schema) : await openPgliteEngine(schema);
  progress(`${engine.label} open in schema ${schema} (${((Date.now() - started) / 1000).toFixed(1)} s with migrations)`);
  try {
    return await fn(engine);
  } finally {
    const closing = Date.now();
    await engine.close();
    progress(`${engine.label} closed, schema dropped (${((Date.now() - closing) / 1000).toFixed(1)} s)`);
  }
}

/** Runs `fn` on every selected engine in turn, each in its own fresh schema. */
export async function forEachEngine<T>(fn: (engine: BenchEngine) => Promise<T>): Promise<{ engine: EngineName; result: T }[]> {
  const results: { engine: EngineName; result: T }[] = [];
  for (const name of selectedEngines()) {
    results.push({ engine: name, result: await withEngine(name, fn) });
  }
  return results;
}

/**
 * The production engine: PostgreSQL through a node-postgres pool. Every pooled
 * connection starts with Convo's schema on its `search_path`; LISTEN uses one
 * dedicated connection, and migrations run under an advisory lock so several nodes
 * starting at once migrate exactly once.
 */

import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import parseTimestamptz from "postgres-date";
import { assertSchemaName, type Db, type Engine, migrationsFolder, notifyAll } from "./engine.js";
import * as schema from "./schema.js";

export interface PostgresEngineOptions {
  databaseUrl: string;
  schema?: string;
  /** Pool size (default 10). */
  poolSize?: number;
  /**
   * Receives connection failures (pooled and LISTEN), which reach no request. Shaped
   * like `BackgroundErrorHandler` (the engine sits below the features and names none).
   */
  onError?: (error: unknown, context: { source: "pool" | "listen" }) => void;
}

// count(*) and other int8 results arrive as strings from pg; Convo's counts fit a
// double, so they are parsed as numbers here (PGlite already answers numbers).
const INT8_OID = 20;
// timestamptz with postgres-date 2 (the parser of pg-types 4, by pg's authors): it reads
// the text without a regular expression, ~3× faster than the 1.x that pg 8 ships. A page
// of 20 conversations carries 60 of them; the old parser was ~8 % of W3's server CPU.
const TIMESTAMPTZ_OID = 1184;
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === TIMESTAMPTZ_OID && format !== "binary") return parseTimestamptz;
    return pg.types.getTypeParser(oid, format as "text");
  },
};

export async function openPostgres(options: PostgresEngineOptions): Promise<Engine> {
  const schemaName = assertSchemaName(options.schema ?? "public");
  const config: pg.PoolConfig = {
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    options: `-c search_path=${schemaName} -c TimeZone=UTC`,
    types,
    connectionTimeoutMillis: 10_000,
  };
  const report = options.onError ?? (() => {});
  const pool = new pg.Pool(config);
  // A client losing its server emits 'error'. The pool listens only while a client is
  // idle; a checked-out client (a request waiting on a lock inside a transaction) has
  // no listener, and an unhandled 'error' event kills the process. So every client
  // gets its own listener for its whole life: the failure is reported, the query in
  // flight fails (a 503 for its request) and the pool discards the dead client.
  pool.on("connect", (client) => {
    client.on("error", (error) => report(error, { source: "pool" }));
  });
  // The pool re-emits an idle client's error; the client's own listener reported it.
  pool.on("error", () => {});
  const db = drizzle({ client: pool, schema }) as unknown as Db;

  const migrator = await pool.connect();
  try {
    await migrator.query(`CREATE SCHEMA IF NOT EXISTS "${schemaName}"`);
    await migrator.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [`convo:migrate:${schemaName}`]);
    try {
      await migrate(drizzle({ client: migrator }), {
        migrationsFolder,
        migrationsSchema: schemaName,
        migrationsTable: "__convo_migrations",
      });
    } finally {
      await migrator.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [`convo:migrate:${schemaName}`]);
    }
  } catch (error) {
    migrator.release();
    await pool.end();
    throw error;
  }
  migrator.release();

  // One dedicated connection carries every LISTEN of this node. When it drops, it is
  // reconnected (with backoff) and every channel is listened to again; notices sent
  // while it was down are lost, which followers cover with their periodic re-read.
  let listener: Promise<pg.Client> | undefined;
  let closed = false;
  const handlers = new Map<string, Set<(payload: string) => void>>();
  const quote = (channel: string) => `"${channel.replaceAll('"', '""')}"`;
  const connectListener = async (): Promise<pg.Client> => {
    const client = new pg.Client({ ...config });
    client.on("notification", (msg) => {
      for (const handler of handlers.get(msg.channel) ?? []) handler(msg.payload ?? "");
    });
    client.on("error", (error) => {
      report(error, { source: "listen" });
      listener = undefined;
      client.end().catch(() => {});
      if (!closed && handlers.size > 0) reconnect(250);
    });
    await client.connect();
    for (const channel of handlers.keys()) await client.query(`LISTEN ${quote(channel)}`);
    return client;
  };
  const listenClient = () => {
    listener ??= connectListener().catch((error: unknown) => {
      listener = undefined;
      throw error;
    });
    return listener;
  };
  const reconnect = (delayMs: number) => {
    setTimeout(() => {
      if (closed || listener) return;
      listenClient().catch((error: unknown) => {
        report(error, { source: "listen" });
        reconnect(Math.min(delayMs * 2, 10_000));
      });
    }, delayMs).unref();
  };

  return {
    kind: "postgres",
    db,
    schema: schemaName,
    notify: (channel, payloads) => notifyAll(db, channel, payloads),
    async listen(channel, onPayload) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        const client = await listenClient();
        // A fresh connection already listened to every registered channel.
        await client.query(`LISTEN ${quote(channel)}`);
      } else {
        await listenClient();
      }
      set.add(onPayload);
      return async () => {
        set.delete(onPayload);
      };
    },
    async withAdvisoryLock(key, fn) {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>(
          "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked",
          [key],
        );
        if (!rows[0]?.locked) return undefined;
        try {
          return { value: await fn() };
        } finally {
          await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
        }
      } finally {
        client.release();
      }
    },
    async ping() {
      await db.execute(sql`SELECT 1`);
      return true;
    },
    async close() {
      if (closed) return; // closing twice is harmless, as it is on PGlite
      closed = true;
      await listener?.then((client) => client.end()).catch(() => {});
      await pool.end();
    },
  };
}

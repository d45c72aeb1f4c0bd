/**
 * The embedded engine: PGlite (PostgreSQL compiled to WebAssembly) in a data
 * directory. PGlite has a single connection; its own mutex serialises transactions
 * and it rolls a failed transaction back before rethrowing, so a failed statement
 * never poisons the connection for the next unit of work. Nothing stops two processes
 * opening one directory, so the store takes a pid lock on it first.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { lockDataDirectory } from "./data-dir-lock.js";
import { assertSchemaName, type Db, type Engine, migrationsFolder, notifyAll } from "./engine.js";
import { driverClient } from "./pglite-driver.js";
import * as schema from "./schema.js";

export interface PgliteEngineOptions {
  /** Directory to persist to; omit for an in-memory database (tests, demos). */
  dataDir?: string;
  /** An already open PGlite to use (it is not closed with the engine). */
  client?: PGlite;
  schema?: string;
}

/**
 * A migrated, empty data directory made by the build (scripts/make-pglite-template.mjs).
 * A fresh directory is restored from it: PostgreSQL's initdb in WebAssembly is most of
 * a first start (seconds), the restore well under that. Migrations still run at open.
 */
const TEMPLATE = new URL("../../template/pglite-data.tar.gz", import.meta.url);

/** PGlite on `dataDir`, restored from the template when the directory holds no database yet. */
async function createPglite(dataDir: string | undefined): Promise<PGlite> {
  if (!dataDir || dataDir.startsWith("memory://") || existsSync(join(dataDir, "PG_VERSION")) || !existsSync(TEMPLATE)) {
    return PGlite.create(dataDir ?? "memory://");
  }
  const template = new Blob([readFileSync(TEMPLATE)], { type: "application/x-gzip" });
  return PGlite.create({ dataDir, loadDataDir: template });
}

export async function openPglite(options: PgliteEngineOptions): Promise<Engine> {
  const schemaName = assertSchemaName(options.schema ?? "public");
  const release = options.dataDir && !options.client ? lockDataDirectory(options.dataDir) : undefined;
  let client: PGlite;
  try {
    client = options.client ?? (await createPglite(options.dataDir));
  } catch (error) {
    release?.();
    throw error;
  }
  const db = drizzle({ client: driverClient(client, schemaName), schema }) as unknown as Db;
  try {
    await client.exec(`CREATE SCHEMA IF NOT EXISTS "${schemaName}"; SET search_path TO "${schemaName}"; SET TIME ZONE 'UTC';`);
    await migrate(drizzle({ client }), {
      migrationsFolder,
      migrationsSchema: schemaName,
      migrationsTable: "__convo_migrations",
    });
  } catch (error) {
    if (!options.client) await client.close();
    release?.();
    throw error;
  }

  // Only one process can open the directory, so an in-process flag is the lock.
  const held = new Set<string>();
  let closed = false;
  return {
    kind: "pglite",
    db,
    schema: schemaName,
    notify: (channel, payloads) => notifyAll(db, channel, payloads),
    async listen(channel, onPayload) {
      return client.listen(channel, onPayload);
    },
    async withAdvisoryLock(key, fn) {
      if (held.has(key)) return undefined;
      held.add(key);
      try {
        return { value: await fn() };
      } finally {
        held.delete(key);
      }
    },
    async ping() {
      await db.execute(sql`SELECT 1`);
      return true;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!options.client) await client.close();
      release?.();
    },
  };
}

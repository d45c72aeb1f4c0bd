/**
 * Where the legacy import reads from: any database answering `query(text, params)`
 * with `{ rows }`. Adapters: a `pg` Pool for a PostgreSQL URL (`convo import-legacy
 * --from …`), and a PGlite instance (tests, embedded data).
 */
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import { ValidationError } from "../errors.js";

/** The one call the import needs from a source database. */
export interface LegacySource {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/**
 * A source on a PostgreSQL URL; `close()` ends its pool.
 *
 * @example
 * const source = pgLegacySource("postgres://app@old-db/app");
 * try {
 *   console.log(await importLegacyDialogs(convo, source, { dryRun: true }));
 * } finally {
 *   await source.close();
 * }
 */
export function pgLegacySource(url: string): LegacySource & { close(): Promise<void> } {
  let pool: Promise<pg.Pool> | undefined;
  // The driver is imported on first use: loading Convo does not load pg.
  const open = () =>
    (pool ??= import("pg").then(({ default: driver }) => {
      // Two connections: the import reads one batch at a time.
      const created = new driver.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
      // An idle client's error surfaces again as the next query's rejection.
      created.on("error", () => {});
      return created;
    }));
  return {
    async query<T>(text: string, params?: unknown[]) {
      const result = await (await open()).query(text, params);
      return { rows: result.rows as T[] };
    },
    close: async () => {
      if (pool) await (await pool).end();
    },
  };
}

/**
 * A source on an open PGlite (not closed by the import).
 *
 * @example
 * const db = await PGlite.create("./old-bot-data");
 * const result = await importLegacyDialogs(convo, pgliteLegacySource(db), { table: "sessions" });
 * await db.close();
 */
export function pgliteLegacySource(db: PGlite): LegacySource {
  return {
    async query<T>(text: string, params?: unknown[]) {
      const result = await db.query<T>(text, params);
      return { rows: result.rows };
    },
  };
}

/**
 * The quoted name of the legacy table (`sessions`, or `schema.sessions`). It is
 * interpolated into SQL, so only plain identifiers pass.
 */
export function quoteTableName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(name)) {
    throw new ValidationError(`table must be table or schema.table (letters, digits, _), not ${JSON.stringify(name)}`, {
      field: "table",
    });
  }
  return name
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}

/**
 * Where the legacy import reads from: any database answering `query(text, params)`
 * with `{ rows }`. Adapters: a `pg` Pool for a PostgreSQL URL (`convo import-legacy
 * --from …`), and a PGlite instance (tests, embedded data).
 */
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { ValidationError } from "../errors.js";

/** The one call the import needs from a source database. */
export interface LegacySource {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/** A source on a PostgreSQL URL; `close()` ends its pool. */
export function pgLegacySource(url: string): LegacySource & { close(): Promise<void> } {
  // Two connections: the import reads one batch at a time.
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
  pool.on("error", () => {});
  return {
    async query<T>(text: string, params?: unknown[]) {
      const result = await pool.query(text, params);
      return { rows: result.rows as T[] };
    },
    close: () => pool.end(),
  };
}

/** A source on an open PGlite (not closed by the import). */
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

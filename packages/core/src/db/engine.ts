/**
 * The database behind a store: PGlite in a data directory, or PostgreSQL by URL.
 * Both are reached through Drizzle with one schema and one SQL dialect; the rest of
 * Convo sees only `Engine`.
 */

import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type * as schema from "./schema.js";

export type Schema = typeof schema;
/** A Drizzle handle: the database or an open transaction — repositories take either. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export type EngineKind = "pglite" | "postgres";

export interface Engine {
  readonly kind: EngineKind;
  readonly db: Db;
  /** The PostgreSQL schema Convo's tables live in. */
  readonly schema: string;
  /** Sends NOTIFY on `channel` for each payload, in one statement (delivered when it commits). */
  notify(channel: string, payloads: string[]): Promise<void>;
  /** Subscribes to NOTIFY on `channel`; answers the unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Runs `fn` holding a session-level advisory lock, or answers undefined if it is taken. */
  withAdvisoryLock<T>(key: string, fn: () => Promise<T>): Promise<{ value: T } | undefined>;
  /** Answers true when a trivial query succeeds. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Schema names are interpolated into `search_path`, so only plain identifiers pass. */
export function assertSchemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`Invalid schema name ${JSON.stringify(name)}: use lower-case letters, digits and _`);
  }
  return name;
}

/** The migrations folder shipped with the package. */
export const migrationsFolder = new URL("../../migrations", import.meta.url).pathname;

/**
 * NOTIFY for each payload in one statement, for both engines' `notify`: a burst of
 * notices costs one round trip.
 */
const NOTIFY_ALL = "SELECT pg_notify($1, p) FROM jsonb_array_elements_text($2::jsonb) AS p";

export async function notifyAll(db: Db, channel: string, payloads: string[]): Promise<void> {
  if (payloads.length === 0) return;
  // Plain text on the driver (see queryText): sent for every burst of appends.
  await queryText(db, NOTIFY_ALL, [channel, JSON.stringify(payloads)]);
}

/**
 * Runs a raw statement and answers its rows. pg and PGlite both answer `{ rows }`;
 * Drizzle's common type leaves it `unknown`, so the shape is asserted here only.
 */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** The driver client under a Drizzle handle: a pg Pool or PoolClient, or PGlite (or its transaction). */
interface DriverClient {
  query(text: string | { name: string; text: string; values: unknown[] }, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /** PGlite's (and its transaction's); pg clients have none. */
  exec?: unknown;
  /** Convo's PGlite driver's prepared path (db/pglite-driver.ts). */
  queryPrepared?: (text: string, params: unknown[]) => Promise<{ rows: unknown[] }>;
}

/** Prepared-statement names by statement text; see `queryText`. */
const statementNames = new Map<string, string>();
/** More distinct texts than this are not prepared (the texts are constants; this only guards a mistake). */
const MAX_PREPARED = 500;

function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `convo_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Runs a statement written as plain text (`$1`, `$2`…) straight on the driver client
 * under `db` — the pool, the transaction's connection, or PGlite — and answers its rows.
 * For the hot paths only (append, last messages, the list page): building a Drizzle
 * query costs more CPU per call than the statement itself on a warm database. Rows come
 * as the driver parses them (timestamps as Dates on both engines).
 *
 * On PostgreSQL the statement is **prepared** once per connection (named after its
 * text): parsing and planning the append's CTE cost the server more than running it
 * (measured: 16 writers went from ~2,200 to ~3,900 appends/s). So `text` must be a
 * constant — values go in `params`, never into the text — and should name its columns
 * rather than `SELECT *`, so a column added by a later migration cannot change the
 * result type of a statement prepared before it. On PGlite the statement is prepared
 * once per instance too (`queryPrepared` in db/pglite-driver.ts), for the same reason.
 *
 * @example
 * const rows = await queryText<{ seq: number }>(uow.db, "SELECT seq FROM messages WHERE user_id = $1", [userId]);
 */
export async function queryText<T>(db: Db, text: string, params: unknown[]): Promise<T[]> {
  // Drizzle keeps the client on its session (PgDatabase.session.client), for the pool
  // and for a transaction alike; pinned drizzle-orm 0.45.
  const client = (db as unknown as { session: { client: DriverClient } }).session.client;
  if (client.queryPrepared) return (await client.queryPrepared(text, params)).rows as T[];
  const name = client.exec === undefined ? statementName(text) : undefined;
  const result = name === undefined ? await client.query(text, params) : await client.query({ name, text, values: params });
  return result.rows as T[];
}

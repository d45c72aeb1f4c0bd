/**
 * A legacy database for import tests: a schema of its own on the shared PGlite (PGlite
 * run) or in the test PostgreSQL (read through a `pg` Pool), dropped when the test ends.
 * The test creates whatever tables the legacy app had.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { onTestFinished } from "vitest";
import { type LegacySource, pgLegacySource, pgliteLegacySource } from "../../src/index.js";
import { type EngineName, sharedPgliteInstance } from "./engines.js";

export interface LegacySchema {
  source: LegacySource;
  /** The schema name, to qualify tables: `${schema}.sessions`. */
  schema: string;
  exec(text: string, params?: unknown[]): Promise<void>;
}

export async function legacySchema(engine: EngineName): Promise<LegacySchema> {
  const schema = `legacy_${randomBytes(4).toString("hex")}`;
  let exec: LegacySchema["exec"];
  let source: LegacySource;
  if (engine === "postgres") {
    const url = process.env.TEST_DATABASE_URL as string;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const pool = pgLegacySource(url);
    exec = async (text, params) => {
      await admin.query(text, params);
    };
    source = pool;
    onTestFinished(async () => {
      await pool.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });
  } else {
    const db = await sharedPgliteInstance();
    exec = async (text, params) => {
      await db.query(text, params);
    };
    source = pgliteLegacySource(db);
    onTestFinished(async () => {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    });
  }
  await exec(`CREATE SCHEMA ${schema}`);
  return { source, schema, exec };
}

/**
 * The legacy app as a new user of Convo would have it: integer ids, no `updated_at`,
 * and a users table holding each user's Telegram id.
 */
export async function legacyBotTables(legacy: LegacySchema): Promise<void> {
  const s = legacy.schema;
  await legacy.exec(`CREATE TABLE ${s}.users (id bigserial PRIMARY KEY, telegram_id bigint NOT NULL UNIQUE, username text)`);
  await legacy.exec(`CREATE TABLE ${s}.sessions (
    id serial PRIMARY KEY,
    user_id bigint REFERENCES ${s}.users(id),
    state text,
    assistant_messages jsonb,
    assistant_params jsonb,
    assistant_error_count integer,
    pending_photo_file_id text,
    created_at timestamptz DEFAULT now()
  )`);
}

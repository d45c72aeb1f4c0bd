/**
 * The engines every shared suite runs on: PGlite always, PostgreSQL when
 * TEST_DATABASE_URL is set. Each test gets its own schema (named from the test and a
 * random suffix); it is dropped when the test passes and kept when it fails, so the
 * rows can be inspected.
 */
import { createHash, randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { expect, onTestFailed, onTestFinished } from "vitest";
import { type Convo, type ConvoOptions, openConvo } from "../../src/index.js";

export type EngineName = "pglite" | "postgres";

export const engines: EngineName[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

let sharedPglite: Promise<PGlite> | undefined;
/** One in-memory PGlite per test worker: starting one costs seconds. */
export function sharedPgliteInstance(): Promise<PGlite> {
  sharedPglite ??= PGlite.create("memory://");
  return sharedPglite;
}

/** A schema name unique to the running test. */
export function testSchemaName(): string {
  const name = expect.getState().currentTestName ?? "test";
  const hash = createHash("sha1").update(name).digest("hex").slice(0, 8);
  return `t_${hash}_${randomBytes(3).toString("hex")}`;
}

/** A manual clock: starts now, moves only when told. */
export function testClock(start = new Date()) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
    set(date: Date) {
      now = date.getTime();
    },
  };
}

/** The options that open Convo on `engine` in a fresh schema. */
export async function engineOptions(engine: EngineName, schema = testSchemaName()): Promise<ConvoOptions> {
  if (engine === "postgres") {
    return { databaseUrl: process.env.TEST_DATABASE_URL as string, schema, poolSize: 20 };
  }
  return { pglite: await sharedPgliteInstance(), schema };
}

/** Drops a test schema. */
export async function dropSchema(engine: EngineName, schema: string): Promise<void> {
  if (engine === "postgres") {
    const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  } else {
    const db = await sharedPgliteInstance();
    await db.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; SET search_path TO public`);
  }
}

/** Opens Convo for the current test in its own schema; closed (and dropped if passing) after. */
export async function openTestConvo(engine: EngineName, options: Partial<ConvoOptions> = {}): Promise<Convo> {
  const schema = testSchemaName();
  const convo = await openConvo({ ...(await engineOptions(engine, schema)), ...options });
  let failed = false;
  onTestFailed(() => {
    failed = true;
    console.error(`[${engine}] test failed; its rows are kept in schema ${schema}`);
  });
  onTestFinished(async () => {
    await convo.close();
    if (!failed) await dropSchema(engine, schema);
  });
  return convo;
}

/** Raw SQL against the current test's schema, for assertions on stored rows. */
export async function rawQuery<T = Record<string, unknown>>(convo: Convo, text: string): Promise<T[]> {
  const { sql } = await import("drizzle-orm");
  const result = (await convo.store.engine.db.execute(sql.raw(text))) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * Closes a conversation and waits for the summary its close writes in the background:
 * sweeps that skip locked rows (the search indexer) would otherwise race that write.
 */
export async function closeSettled(convo: Convo, userId: string, conversationId: string): Promise<void> {
  await convo.conversations.close(userId, conversationId);
  for (let i = 0; i < 500; i++) {
    const [row] = await rawQuery<{ pending: boolean }>(
      convo,
      `SELECT summary_pending_at IS NOT NULL AS pending FROM conversations WHERE id = '${conversationId}'`,
    );
    if (!row?.pending) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the summary of conversation ${conversationId} was still pending after 5 s`);
}

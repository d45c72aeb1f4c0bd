/**
 * Mastra's PostgreSQL store (`@mastra/pg`), the competitor a TypeScript developer would
 * pick instead of Convo, used as its documentation shows: `new PostgresStore({ pool,
 * schemaName })`, `init()`, then the memory domain's `saveThread`, `saveMessages`,
 * `listMessages` and `listThreads`. Its own default indexes, in a schema of its own.
 * PostgreSQL only (its embedded default is LibSQL, not PGlite).
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { MastraDBMessage } from "@mastra/core/agent";
import type { StorageThreadType } from "@mastra/core/memory";
import { PostgresStore } from "@mastra/pg";
import pg from "pg";
import { databaseUrl, POOL_SIZE } from "../lib/engines.js";

type Memory = NonNullable<Awaited<ReturnType<PostgresStore["getStore"]>>> & {
  saveThread(args: { thread: StorageThreadType }): Promise<StorageThreadType>;
  saveMessages(args: { messages: MastraDBMessage[] }): Promise<{ messages: MastraDBMessage[] }>;
  listMessages(args: Record<string, unknown>): Promise<{ messages: MastraDBMessage[] }>;
  listThreads(args: Record<string, unknown>): Promise<{ threads: StorageThreadType[]; total: number; hasMore: boolean }>;
};

/** A Mastra store in a fresh schema. */
export interface MastraDb {
  schema: string;
  memory: Memory;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Opens Mastra's store in a fresh schema on the benchmark's PostgreSQL (a pool of the same size as Convo's). */
export async function openMastra(): Promise<MastraDb> {
  const schema = `bench_mastra_${randomBytes(4).toString("hex")}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE });
  pool.on("error", () => {});
  await pool.query(`CREATE SCHEMA "${schema}"`);
  const store = new PostgresStore({ id: "bench", pool, schemaName: schema });
  await store.init();
  const memory = (await store.getStore("memory")) as Memory | undefined;
  if (!memory) throw new Error("@mastra/pg has no memory store");
  return {
    schema,
    memory,
    pool,
    async close() {
      await store.close().catch(() => {});
      try {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await pool.end();
      }
    },
  };
}

/** A Mastra message with one text part. */
export function mastraMessage(
  threadId: string,
  resourceId: string,
  role: "user" | "assistant",
  text: string,
  createdAt = new Date(),
) {
  return {
    id: randomUUID(),
    threadId,
    resourceId,
    role,
    createdAt,
    type: "v2",
    content: { format: 2, parts: [{ type: "text", text }] },
  } as MastraDBMessage;
}

/** A conversation (thread) of the Mastra store. */
export interface MastraThread {
  userId: string;
  id: string;
}

/**
 * Seeds `perUser` threads for each of `users` new resources, `messages` messages in
 * each, through Mastra's own API (it has no bulk path), a few threads at a time.
 * Answers the threads grouped by user, newest first.
 */
export async function seedMastra(
  db: MastraDb,
  options: { users: number; perUser: number; messages: number; stepSeconds?: number },
): Promise<MastraThread[][]> {
  const { users, perUser, messages, stepSeconds = 1 } = options;
  const now = Date.now();
  const byUser: MastraThread[][] = [];
  const jobs: (() => Promise<void>)[] = [];
  for (let u = 0; u < users; u++) {
    const userId = randomUUID();
    const threads: MastraThread[] = [];
    for (let g = 0; g < perUser; g++) {
      const thread = { userId, id: randomUUID() };
      threads.push(thread);
      const at = new Date(now - (g + 1) * stepSeconds * 1000);
      jobs.push(async () => {
        await db.memory.saveThread({
          thread: { id: thread.id, resourceId: userId, title: "", createdAt: at, updatedAt: at, metadata: {} },
        });
        if (messages > 0) {
          const list = Array.from({ length: messages }, (_, k) =>
            mastraMessage(
              thread.id,
              userId,
              k % 2 === 0 ? "user" : "assistant",
              `Seeded message ${k + 1}: ${"how do I make a sticker from this photo? ".repeat(2)}`,
              new Date(at.getTime() + (k + 1) * 1000),
            ),
          );
          await db.memory.saveMessages({ messages: list });
        }
      });
    }
    byUser.push(threads);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < jobs.length) await jobs[next++]();
    }),
  );
  return byUser;
}

/** Appends one message the way Mastra's memory does (`saveMessages` with one message). */
export async function mastraAppend(db: MastraDb, t: MastraThread, role: "user" | "assistant", text: string) {
  const { messages } = await db.memory.saveMessages({ messages: [mastraMessage(t.id, t.userId, role, text)] });
  return messages[0];
}

/** The last `limit` messages of a thread, oldest first (Mastra's last-N read: newest first, no total). */
export async function mastraRecent(db: MastraDb, t: MastraThread, limit: number) {
  const { messages } = await db.memory.listMessages({
    threadId: t.id,
    resourceId: t.userId,
    perPage: limit,
    page: 0,
    orderBy: { field: "createdAt", direction: "DESC" },
    includeTotal: false,
  });
  return messages.reverse();
}

/** The first page of a user's threads, most recently updated first, with the total. */
export async function mastraPage(db: MastraDb, userId: string, limit: number) {
  const page = await db.memory.listThreads({
    filter: { resourceId: userId },
    perPage: limit,
    page: 0,
    orderBy: { field: "updatedAt", direction: "DESC" },
  });
  return { items: page.threads, total: page.total, hasMore: page.hasMore };
}

/** Size of Mastra's messages table (heap, TOAST and indexes) per stored message. */
export async function mastraBytesPerMessage(db: MastraDb): Promise<number> {
  const { rows } = await db.pool.query<{ bytes: string; n: string }>(
    `SELECT pg_total_relation_size('"${db.schema}".mastra_messages') AS bytes, (SELECT count(*) FROM "${db.schema}".mastra_messages) AS n`,
  );
  return Number(rows[0].bytes) / Number(rows[0].n);
}

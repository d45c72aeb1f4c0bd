/**
 * The minimal raw reference of issue 10: what a careful developer writes by hand, in
 * its own schema beside Convo's, reached through the bare driver (a `pg` Pool of the
 * same size, or the same PGlite client). Exactly the schema and SQL:
 *
 *   conversations(id uuid pk, user_id, title, created_at, updated_at), index (user_id, updated_at desc)
 *   messages(id uuid pk, conversation_id, seq, role, content, created_at), unique (conversation_id, seq)
 *
 * append = one statement (bump the conversation, insert the message with the next seq);
 * recent = `ORDER BY seq DESC LIMIT 20`, reversed; list = `ORDER BY updated_at DESC
 * LIMIT 20` plus a `count(*)`. Every statement names its schema, so it shares PGlite's
 * one connection with Convo without touching its `search_path`.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { databaseUrl, type EngineName, POOL_SIZE, type RawQuery, sharedPglite } from "../lib/engines.js";

/** The reference's schema on one engine, with its own driver handle. */
export interface MinimalDb {
  schema: string;
  query: RawQuery;
  close(): Promise<void>;
}

const ddl = (s: string) => `
CREATE SCHEMA "${s}";
CREATE TABLE "${s}".conversations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  title text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON "${s}".conversations (user_id, updated_at DESC);
CREATE TABLE "${s}".messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL,
  seq integer NOT NULL,
  role text NOT NULL,
  content text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ON "${s}".messages (conversation_id, seq);`;

/** Creates the reference schema on `engine`; `close` drops it. */
export async function openMinimal(engine: EngineName): Promise<MinimalDb> {
  const schema = `bench_min_${randomBytes(4).toString("hex")}`;
  if (engine === "postgres") {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE, options: "-c TimeZone=UTC" });
    pool.on("error", () => {});
    await pool.query(ddl(schema));
    return {
      schema,
      query: async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[],
      async close() {
        try {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await pool.end();
        }
      },
    };
  }
  const client = await sharedPglite();
  await client.exec(ddl(schema));
  return {
    schema,
    query: async <T>(text: string, params?: unknown[]) => (await client.query<T>(text, params)).rows,
    async close() {
      await client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/** The reference's statements for schema `s` (pure functions of the schema name, as pg-boss keeps its SQL). */
export const minimalSql = (s: string) => ({
  /**
   * One statement: the UPDATE locks the conversation's row and bumps its activity; the
   * INSERT takes the next seq from the unique index (its last entry).
   */
  append: `WITH c AS (UPDATE "${s}".conversations SET updated_at = $2 WHERE id = $1 RETURNING id)
INSERT INTO "${s}".messages (id, conversation_id, seq, role, content, created_at)
SELECT gen_random_uuid(), c.id,
       COALESCE((SELECT max(seq) FROM "${s}".messages m WHERE m.conversation_id = c.id), 0) + 1,
       $3, $4, $2
FROM c
RETURNING *`,
  recent: `SELECT * FROM "${s}".messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2`,
  page: `SELECT * FROM "${s}".conversations WHERE user_id = $1 ORDER BY updated_at DESC LIMIT $2`,
  count: `SELECT count(*)::int AS total FROM "${s}".conversations WHERE user_id = $1`,
});

/** A conversation of the reference. */
export interface MinimalConversation {
  userId: string;
  id: string;
}

/**
 * Appends one message; answers the stored row. Two appends racing on one conversation
 * can read the same `max(seq)` (the subquery's snapshot predates the row lock), so the
 * loser hits the unique index and, as a careful developer would write it, tries again.
 */
export async function minimalAppend(db: MinimalDb, conversationId: string, role: string, content: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      const [row] = await db.query(minimalSql(db.schema).append, [conversationId, new Date(), role, content]);
      if (!row) throw new Error(`conversation ${conversationId} is missing`);
      return row;
    } catch (error) {
      if ((error as { code?: string }).code !== "23505" || attempt >= 10) throw error;
    }
  }
}

/** The last `limit` messages, oldest first. */
export async function minimalRecent(db: MinimalDb, conversationId: string, limit: number) {
  return (await db.query(minimalSql(db.schema).recent, [conversationId, limit])).reverse();
}

/** The first page of a user's conversations, newest activity first, with the user's total. */
export async function minimalPage(db: MinimalDb, userId: string, limit: number) {
  const sql = minimalSql(db.schema);
  const items = await db.query(sql.page, [userId, limit]);
  const [{ total }] = await db.query<{ total: number }>(sql.count, [userId]);
  return { items, total, hasMore: total > items.length };
}

/**
 * Seeds `perUser` conversations for each of `users` fresh user ids (newest first, one
 * `stepSeconds` apart, the newest `newestAgeSeconds` old) and `messages` messages in
 * each, in bulk SQL; answers the conversations grouped by user, newest first.
 */
export async function seedMinimal(
  db: MinimalDb,
  options: { users: number; perUser: number; messages: number; newestAgeSeconds?: number; stepSeconds?: number },
): Promise<MinimalConversation[][]> {
  const s = db.schema;
  const { users, perUser, messages, newestAgeSeconds = 0, stepSeconds = 1 } = options;
  const rows = await db.query<{ user_id: string; id: string; updated_at: Date }>(
    `WITH us AS (SELECT u, gen_random_uuid() AS user_id FROM generate_series(1, $1::int) AS u)
     INSERT INTO "${s}".conversations (user_id, created_at, updated_at)
     SELECT us.user_id, t.at, t.at + make_interval(secs => $5::int)
     FROM us CROSS JOIN generate_series(1, $2::int) AS g
     CROSS JOIN LATERAL (SELECT date_trunc('milliseconds', now())
                                - make_interval(secs => $3::double precision + (g - 1) * $4::double precision) AS at) t
     RETURNING user_id, id, updated_at`,
    [users, perUser, newestAgeSeconds, stepSeconds, messages],
  );
  if (messages > 0) {
    await db.query(
      `INSERT INTO "${s}".messages (conversation_id, seq, role, content, created_at)
       SELECT c.id, g, CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
              'Seeded message ' || g || ': ' || repeat('how do I make a sticker from this photo? ', 2),
              c.created_at + make_interval(secs => g)
       FROM "${s}".conversations c CROSS JOIN generate_series(1, $2::int) AS g
       WHERE c.id = ANY($1::uuid[])`,
      [rows.map((r) => r.id), messages],
    );
  }
  rows.sort((a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : b.updated_at.getTime() - a.updated_at.getTime()));
  const byUser = new Map<string, MinimalConversation[]>();
  for (const row of rows) {
    const list = byUser.get(row.user_id) ?? [];
    list.push({ userId: row.user_id, id: row.id });
    byUser.set(row.user_id, list);
  }
  return [...byUser.values()];
}

/** Size of the reference's messages table (heap, TOAST and indexes) per stored message. */
export async function minimalBytesPerMessage(db: MinimalDb): Promise<number> {
  const [row] = await db.query<{ bytes: string; n: string }>(
    `SELECT pg_total_relation_size('"${db.schema}".messages') AS bytes, (SELECT count(*) FROM "${db.schema}".messages) AS n`,
  );
  return Number(row.bytes) / Number(row.n);
}

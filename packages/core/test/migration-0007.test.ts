/**
 * Migration 0007 on a database that already holds rows: a schema is migrated up to
 * 0006 only, filled with SQL as 0006 stores it, then opened by Convo, which applies
 * 0007. Nothing may be lost or changed, the closed conversations must be in the search
 * index, and everything must work on the new keys.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { openConvo } from "../src/index.js";
import {
  closeSettled,
  dropSchema,
  type EngineName,
  engineOptions,
  engines,
  rawQuery,
  sharedPgliteInstance,
  testSchemaName,
} from "./support/engines.js";

const MIGRATIONS = new URL("../migrations/", import.meta.url).pathname;

/** A copy of the migrations folder whose journal stops after `lastTag`. */
function migrationsUpTo(lastTag: string): { folder: string; remove(): void } {
  const folder = mkdtempSync(join(tmpdir(), "convo-migrations-"));
  cpSync(MIGRATIONS, folder, { recursive: true });
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  const end = journal.entries.findIndex((e) => e.tag === lastTag);
  expect(end).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, end + 1);
  writeFileSync(journalPath, JSON.stringify(journal));
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** Migrates `schema` with the migrations in `folder` and runs `script` there, as the old version would have. */
async function oldSchema(engine: EngineName, schema: string, folder: string, script: string): Promise<void> {
  const options = { migrationsFolder: folder, migrationsSchema: schema, migrationsTable: "__convo_migrations" };
  if (engine === "postgres") {
    const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await migratePg(drizzlePg({ client }), options);
      await client.query(script);
    } finally {
      await client.end();
    }
  } else {
    const client = await sharedPgliteInstance();
    await client.exec(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
    await migratePglite(drizzlePglite({ client }), options);
    await client.exec(script);
  }
}

const U1 = "11111111-1111-4111-8111-111111111111";
const U2 = "22222222-2222-4222-8222-222222222222";
const CLOSED = "c1111111-1111-4111-8111-111111111111";
const OPEN = "c2222222-2222-4222-8222-222222222222";
const OTHER = "c3333333-3333-4333-8333-333333333333";

// Rows as 0006 stores them: a closed conversation with a title, a summary and a noise
// message, an open one with a client message id, and another user's closed one.
const ROWS = `
INSERT INTO users (id, external_id) VALUES ('${U1}', 'tg:1'), ('${U2}', 'tg:2');
INSERT INTO conversations (user_id, id, title, title_source, summary, summary_seq, message_count, last_seq, created_at, updated_at, closed_at, close_reason)
VALUES ('${U1}', '${CLOSED}', 'Кот в шляпе', 'user', 'Про кота', 3, 2, 3, '2026-01-01T10:00:00Z', '2026-01-01T10:05:00Z', '2026-01-01T11:00:00Z', 'app'),
       ('${U1}', '${OPEN}', 'Ещё кот', 'heuristic', NULL, 0, 2, 2, '2026-01-02T10:00:00Z', '2026-01-02T10:05:00Z', NULL, NULL),
       ('${U2}', '${OTHER}', NULL, NULL, NULL, 0, 1, 1, '2026-01-03T10:00:00Z', '2026-01-03T10:00:00Z', '2026-01-03T11:00:00Z', 'inactivity');
INSERT INTO conversation_totals (user_id, env, total) VALUES ('${U1}', 'prod', 2), ('${U2}', 'prod', 1);
INSERT INTO messages (user_id, conversation_id, seq, role, content, noise, client_message_id, created_at) VALUES
  ('${U1}', '${CLOSED}', 1, 'user', 'Нарисуй кота в шляпе', false, NULL, '2026-01-01T10:01:00Z'),
  ('${U1}', '${CLOSED}', 2, 'assistant', 'Кота нарисую 🐱', false, NULL, '2026-01-01T10:02:00Z'),
  ('${U1}', '${CLOSED}', 3, 'system', 'Служебное про кота', true, NULL, '2026-01-01T10:03:00Z'),
  ('${U1}', '${OPEN}', 1, 'user', 'Ещё кот', false, NULL, '2026-01-02T10:01:00Z'),
  ('${U1}', '${OPEN}', 2, 'user', 'И котом займёмся', false, 'tg-7', '2026-01-02T10:02:00Z'),
  ('${U2}', '${OTHER}', 1, 'user', 'Чужой кот', false, NULL, '2026-01-03T10:01:00Z');
`;

describe.each(engines)("migration 0007 on %s", (engine) => {
  it("keeps every row, indexes the closed conversations for search, and works on the new keys", async () => {
    const schema = testSchemaName();
    const upTo0006 = migrationsUpTo("0006_server_secrets");
    try {
      await oldSchema(engine, schema, upTo0006.folder, ROWS);
    } finally {
      upTo0006.remove();
    }
    const convo = await openConvo({ ...(await engineOptions(engine, schema)), clock: () => new Date("2026-01-02T10:10:00Z") });
    let passed = false;
    try {
      const journal = JSON.parse(readFileSync(join(MIGRATIONS, "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
      expect(await rawQuery(convo, "SELECT count(*)::int AS n FROM __convo_migrations")).toEqual([{ n: journal.entries.length }]);

      // Every message as it was (columns and values).
      const messages = await rawQuery<{ row: string }>(
        convo,
        "SELECT row_to_json(m)::text AS row FROM messages m ORDER BY conversation_id, seq",
      );
      expect(messages).toHaveLength(6);
      expect(JSON.parse(messages[0]?.row as string)).toMatchObject({
        user_id: U1,
        conversation_id: CLOSED,
        seq: 1,
        content: "Нарисуй кота в шляпе",
      });
      expect(messages.map((m) => JSON.parse(m.row).content)).toEqual([
        "Нарисуй кота в шляпе",
        "Кота нарисую 🐱",
        "Служебное про кота",
        "Ещё кот",
        "И котом займёмся",
        "Чужой кот",
      ]);

      // The keys, the indexes dropped, made partial and added.
      const indexes = Object.fromEntries(
        (
          await rawQuery<{ indexname: string; indexdef: string }>(
            convo,
            `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '${schema}' AND tablename IN ('messages', 'message_search', 'conversations')`,
          )
        ).map((r) => [r.indexname, r.indexdef.replaceAll(`"${schema}".`, "").replaceAll(`${schema}.`, "")]),
      );
      expect(indexes.messages_pkey).toMatch(/UNIQUE INDEX messages_pkey ON messages USING btree \(id\)$/);
      expect(indexes.messages_conversation_seq_key).toMatch(/USING btree \(conversation_id, seq\)$/);
      expect(indexes.messages_user_id_id_pk).toBeUndefined();
      expect(indexes.messages_search_idx).toBeUndefined();
      expect(indexes.messages_client_message_id_key).toMatch(
        /\(user_id, client_message_id\) WHERE \(client_message_id IS NOT NULL\)$/,
      );
      expect(indexes.conversations_search_idx).toMatch(/USING gin .* WHERE \(closed_at IS NOT NULL\)$/);
      expect(indexes.conversations_search_pending_idx).toMatch(
        /\(closed_at\) WHERE \(\(closed_at IS NOT NULL\) AND \(last_seq > search_seq\)\)$/,
      );
      expect(indexes.message_search_document_idx).toMatch(/USING gin \(document\)$/);
      expect(indexes.message_search_conversation_id_seq_pk).toMatch(/\(conversation_id, seq\)$/);

      // The backfill: closed conversations indexed (noise left out), the open one left to on-the-fly matching.
      const searchSeq = await rawQuery<{ id: string; search_seq: number }>(
        convo,
        "SELECT id, search_seq FROM conversations ORDER BY id",
      );
      expect(searchSeq).toEqual([
        { id: CLOSED, search_seq: 3 },
        { id: OPEN, search_seq: 0 },
        { id: OTHER, search_seq: 1 },
      ]);
      expect(
        await rawQuery(convo, "SELECT conversation_id, seq, user_id FROM message_search ORDER BY conversation_id, seq"),
      ).toEqual([
        { conversation_id: CLOSED, seq: 1, user_id: U1 },
        { conversation_id: CLOSED, seq: 2, user_id: U1 },
        { conversation_id: OTHER, seq: 1, user_id: U2 },
      ]);
      expect(await convo.search.indexPending()).toEqual({ messages: 0, conversations: 0 });

      // Search finds every message once, from the index and on the fly, and only the user's own.
      const hits = (await convo.search.query(U1, { q: "кот", limit: 50 })).items;
      expect(
        hits
          .filter((h) => h.kind === "message")
          .map((h) => `${h.conversationId === CLOSED ? "closed" : "open"}:${h.seq}`)
          .sort(),
      ).toEqual(["closed:1", "closed:2", "open:1", "open:2"]);
      expect(
        hits
          .filter((h) => h.kind === "conversation")
          .map((h) => h.conversationId)
          .sort(),
      ).toEqual([CLOSED, OPEN].sort());
      expect((await convo.search.query(U2, { q: "кот" })).items.map((h) => h.snippet)).toEqual(["Чужой <mark>кот</mark>"]);
      expect((await convo.search.query(U1, { q: "🐱" })).items.map((h) => h.seq)).toEqual([2]);

      // The append, its idempotency by client id and the reads work on the new keys.
      const again = await convo.messages.append(U1, OPEN, { role: "user", content: "И котом займёмся", clientMessageId: "tg-7" });
      expect(again.message.seq).toBe(2);
      const added = await convo.messages.append(U1, OPEN, { role: "assistant", content: "Займёмся котом" });
      expect(added.message.seq).toBe(3);
      expect((await convo.messages.last(U1, OPEN)).map((m) => m.seq)).toEqual([1, 2, 3]);
      await closeSettled(convo, U1, OPEN);
      expect(await convo.search.indexPending()).toEqual({ messages: 3, conversations: 1 });

      // The trigger replaced by 0007 takes the search rows with the conversation.
      await convo.conversations.delete(U1, CLOSED);
      expect(await rawQuery(convo, "SELECT DISTINCT conversation_id FROM message_search ORDER BY conversation_id")).toEqual([
        { conversation_id: OPEN },
        { conversation_id: OTHER },
      ]);
      expect(await rawQuery(convo, `SELECT count(*)::int AS n FROM messages WHERE conversation_id = '${CLOSED}'`)).toEqual([
        { n: 0 },
      ]);
      passed = true;
    } finally {
      await convo.close();
      if (passed) await dropSchema(engine, schema);
      else console.error(`[${engine}] migration test failed; its rows are kept in schema ${schema}`);
    }
  });
});

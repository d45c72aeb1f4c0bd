/**
 * The legacy import reads the legacy table's real columns first: integer or uuid ids,
 * optional timestamps and counters, a users table with Telegram ids (users become
 * `tg:<id>`), and a clear refusal — before any work — when a required column or the
 * table is missing.
 */
import { describe, expect, it } from "vitest";
import { importLegacyDialogs } from "../src/index.js";
import { engines, openTestConvo, rawQuery } from "./support/engines.js";
import { legacyBotTables, legacySchema } from "./support/legacy-db.js";

const chat = (goal: string) =>
  JSON.stringify([
    { role: "user", content: goal },
    { role: "model", content: "Какой стиль?" },
  ]);

describe.each(engines)("legacy import of real-world tables on %s", (engine) => {
  it("imports integer ids without updated_at, maps users by their Telegram id to tg:<id>, resumes by integer id", async () => {
    const convo = await openTestConvo(engine);
    const legacy = await legacySchema(engine);
    await legacyBotTables(legacy);
    const s = legacy.schema;
    await legacy.exec(
      `INSERT INTO ${s}.users (telegram_id, username) VALUES (480637186, 'anna'), (555000111, 'boris'), (777, 'no-dialogs')`,
    );
    const insert = (userId: number | null, messages: string | null, params: string | null, errors: number | null) =>
      legacy.exec(
        `INSERT INTO ${s}.sessions (user_id, assistant_messages, assistant_params, assistant_error_count, created_at) VALUES ($1, $2, $3, $4, '2026-01-10T10:00:00Z')`,
        [userId, messages, params, errors],
      );
    await insert(
      1,
      chat("кот на день рождения"),
      JSON.stringify({ style: "аниме", emotion: "радость", confirmed: true, step: 6 }),
      0,
    );
    await insert(1, null, null, null); // an ordinary session: not a dialog
    await insert(2, chat("собака"), JSON.stringify({ style: "реализм", step: "2" }), 3);
    await insert(null, chat("без владельца"), "{}", 0);
    // A user already known to Convo through the bot: the import must land on the same user.
    const { user: anna } = await convo.users.create({ externalId: "tg:480637186", displayName: "Аня" });

    const first = await importLegacyDialogs(convo, legacy.source, { table: `${s}.sessions`, batchSize: 2 });
    expect(first).toMatchObject({
      read: 4,
      imported: 2,
      skipped: 2,
      skippedByReason: { "no assistant data": 1, "no user_id": 1 },
      usersCreated: 1,
      telegramUsers: `${s}.users`,
      lastId: "4",
    });
    const rows = await rawQuery<Record<string, unknown>>(
      convo,
      `SELECT u.external_id, d.goal, d.style, d.status, d.current_step, d.import_key,
              extract(epoch FROM d.created_at)::int AS created_at, extract(epoch FROM d.updated_at)::int AS updated_at
       FROM assistant_sessions d JOIN users u ON u.id = d.user_id ORDER BY d.import_key`,
    );
    expect(rows).toEqual([
      {
        external_id: "tg:480637186",
        goal: "кот на день рождения",
        style: "аниме",
        status: "completed",
        current_step: 6,
        created_at: Date.parse("2026-01-10T10:00:00Z") / 1000,
        // No updated_at column: the dialog's last change is when it was created.
        updated_at: Date.parse("2026-01-10T10:00:00Z") / 1000,
        import_key: "legacy:sessions:1",
      },
      {
        external_id: "tg:555000111",
        goal: "собака",
        style: "реализм",
        status: "error",
        current_step: 2,
        created_at: Date.parse("2026-01-10T10:00:00Z") / 1000,
        updated_at: Date.parse("2026-01-10T10:00:00Z") / 1000,
        import_key: "legacy:sessions:3",
      },
    ]);
    expect((await convo.dialogs.getActive(anna.id)) ?? null).toBeNull();

    // Resume after an integer id, and a full re-run: nothing twice.
    await legacy.exec(`INSERT INTO ${s}.sessions (user_id, assistant_messages, assistant_params) VALUES (2, $1, '{}')`, [
      chat("ещё"),
    ]);
    const resumed = await importLegacyDialogs(convo, legacy.source, { table: `${s}.sessions`, afterId: first.lastId as string });
    expect(resumed).toMatchObject({ read: 1, imported: 1, lastId: "5" });
    const again = await importLegacyDialogs(convo, legacy.source, { table: `${s}.sessions` });
    expect(again).toMatchObject({ read: 5, imported: 0, alreadyImported: 3 });
    await expect(importLegacyDialogs(convo, legacy.source, { table: `${s}.sessions`, afterId: "abc" })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { field: "afterId" },
    });
  });

  it("refuses a missing required column before any work, naming it and what is expected", async () => {
    const convo = await openTestConvo(engine);
    const legacy = await legacySchema(engine);
    const s = legacy.schema;
    await legacy.exec(
      `CREATE TABLE ${s}.sessions (id uuid PRIMARY KEY, user_id uuid, assistant_messages jsonb, created_at timestamptz)`,
    );
    await legacy.exec(
      `INSERT INTO ${s}.sessions VALUES (gen_random_uuid(), gen_random_uuid(), '[{"role":"user","content":"x"}]', now())`,
    );
    const progress: number[] = [];
    const attempt = importLegacyDialogs(convo, legacy.source, {
      table: `${s}.sessions`,
      onProgress: (done) => void progress.push(done),
    });
    await expect(attempt).rejects.toMatchObject({
      code: "LEGACY_COLUMN_MISSING",
      status: 422,
      details: { column: "assistant_params" },
      message: expect.stringContaining('has no column "assistant_params"'),
    });
    expect(progress).toEqual([]);
    expect(await rawQuery(convo, "SELECT id FROM users")).toEqual([]);

    await expect(importLegacyDialogs(convo, legacy.source, { table: `${s}.nothing_here` })).rejects.toMatchObject({
      code: "LEGACY_TABLE_MISSING",
      message: expect.stringContaining("does not exist"),
    });
    await legacy.exec(`CREATE TABLE ${s}.text_ids (id text, user_id text, assistant_messages jsonb, assistant_params jsonb)`);
    await expect(importLegacyDialogs(convo, legacy.source, { table: `${s}.text_ids` })).rejects.toMatchObject({
      code: "LEGACY_COLUMN_TYPE",
    });
    // A users table named but without the Telegram id column is refused too.
    await legacy.exec(`CREATE TABLE ${s}.people (id uuid)`);
    await legacy.exec(`ALTER TABLE ${s}.sessions ADD COLUMN assistant_params jsonb`);
    await expect(
      importLegacyDialogs(convo, legacy.source, { table: `${s}.sessions`, usersTable: `${s}.people` }),
    ).rejects.toMatchObject({ code: "LEGACY_COLUMN_MISSING", details: { column: "telegram_id" } });
  });
});

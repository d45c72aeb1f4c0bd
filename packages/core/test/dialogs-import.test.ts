import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type Convo,
  importLegacyDialogs,
  type LegacySource,
  legacyColumnDropSql,
  LEGACY_SKIP_REASONS as R,
} from "../src/index.js";
import { type EngineName, engines, openTestConvo, rawQuery } from "./support/engines.js";
import { legacySchema } from "./support/legacy-db.js";

interface LegacyDb {
  source: LegacySource;
  /** `schema.sessions` */
  table: string;
  exec(text: string, params?: unknown[]): Promise<void>;
}

/**
 * A legacy `sessions` table in a schema of its own (support/legacy-db.ts): on the
 * shared PGlite for the PGlite run, in the test database for the PostgreSQL run.
 */
async function legacyDb(engine: EngineName): Promise<LegacyDb> {
  const { source, schema, exec } = await legacySchema(engine);
  await exec(`CREATE TABLE ${schema}.sessions (
    id uuid PRIMARY KEY,
    user_id uuid,
    state text,
    photo_file_id text,
    prompt_final text,
    assistant_messages jsonb,
    assistant_params jsonb,
    assistant_error_count integer,
    pending_photo_file_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`);
  return { source, table: `${schema}.sessions`, exec };
}

interface LegacyInput {
  id?: string;
  user?: string | null;
  messages?: unknown;
  params?: unknown;
  errors?: number | null;
  pending?: string | null;
  /** Store `messages` as a jsonb string holding JSON text (double-encoded). */
  doubleEncoded?: boolean;
  at?: string;
}

async function insertLegacy(db: LegacyDb, rows: LegacyInput[]) {
  for (const row of rows) {
    const messages =
      row.messages === undefined ? null : JSON.stringify(row.doubleEncoded ? JSON.stringify(row.messages) : row.messages);
    const at = row.at ?? "2025-11-01T10:00:00Z";
    await db.exec(
      `INSERT INTO ${db.table} (id, user_id, state, assistant_messages, assistant_params, assistant_error_count,
         pending_photo_file_id, created_at, updated_at)
       VALUES ($1, $2, 'assistant_chat', $3::jsonb, $4::jsonb, $5, $6, $7, $7::timestamptz + interval '5 minutes')`,
      [
        row.id ?? randomUUID(),
        row.user === undefined ? randomUUID() : row.user,
        messages,
        row.params === undefined ? null : JSON.stringify(row.params),
        row.errors ?? null,
        row.pending ?? null,
        at,
      ],
    );
  }
}

const ids = {
  confirmed: randomUUID(),
  unconfirmed: randomUUID(),
  errored: randomUUID(),
  clamped: randomUUID(),
  model: randomUUID(),
  photoOnly: randomUUID(),
  doubled: randomUUID(),
};

/** A legacy data set: 7 named dialogs + 30 bulk ones, and 17 rows to skip. */
function dataSet(users: { a: string; b: string; c: string; existing: string }) {
  const valid: LegacyInput[] = [
    {
      id: ids.confirmed,
      user: users.a,
      messages: [
        { role: "assistant", content: "What is the sticker for?" },
        { role: "user", content: "  a birthday card for mom  " },
        { role: "assistant", content: "Style?" },
      ],
      params: { style: "anime", emotion: "joy", pose: "wave", text: "С днём рождения!", confirmed: true, step: 7 },
      errors: 0,
    },
    {
      id: ids.unconfirmed,
      user: users.a,
      messages: [{ role: "user", content: "cat meme" }],
      params: { style: "pixel", step: 3 },
      errors: 1,
    },
    { id: ids.errored, user: users.existing, messages: [], params: { step: "4" }, errors: 3 },
    {
      id: ids.clamped,
      user: users.b,
      messages: [{ role: "user", content: "other" }],
      params: { goal: "stored goal", step: 12, text: "", confirmed: false },
    },
    {
      id: ids.model,
      user: users.b,
      messages: [
        { role: "user", content: "hi" },
        { role: "model", content: "Hello!" },
      ],
      pending: "AgAD-pending",
    },
    { id: ids.photoOnly, user: users.c, pending: "AgAD-only" },
    { id: ids.doubled, user: users.c, messages: [{ role: "user", content: "double" }], doubleEncoded: true, params: { step: 1 } },
  ];
  for (let i = 0; i < 30; i++) {
    valid.push({
      user: [users.a, users.b, users.c][i % 3],
      messages: [{ role: "user", content: `bulk ${i}` }],
      params: { style: ["anime", "pixel"][i % 2], step: i % 8, confirmed: i % 4 === 0 },
      errors: i % 5,
      at: `2025-10-${String(1 + (i % 28)).padStart(2, "0")}T08:00:00Z`,
    });
  }
  const skipped: [LegacyInput, string][] = [
    [{}, R.noData],
    [{}, R.noData],
    [{ user: null }, R.noData],
    [{ messages: [], params: {}, errors: 0 }, R.noData],
    [{ messages: { role: "user" }, params: { step: 1 } }, R.messagesNotArray],
    [{ messages: [{ role: "user" }] }, R.messageShape],
    [{ messages: [{ role: "user", content: 5 }] }, R.messageShape],
    [{ messages: [{ role: "robot", content: "beep" }] }, R.messageShape],
    [{ messages: [], params: [1, 2] }, R.paramsNotObject],
    [{ params: { style: 5, step: 1 } }, R.paramType],
    [{ params: { step: "abc" } }, R.stepNotInteger],
    [{ params: { step: 2.5 } }, R.stepNotInteger],
    [{ messages: [{ role: "user", content: "a\u0000b" }], doubleEncoded: true }, R.nul],
    [{ messages: [{ role: "user", content: "x\ud800y" }], doubleEncoded: true }, R.surrogate],
    [{ messages: "not json at all" }, R.messagesNotJson],
    [{ params: { step: 1 }, errors: -1 }, R.errorCount],
    [{ user: null, params: { step: 2 } }, R.noUser],
  ];
  const byReason: Record<string, number> = {};
  for (const [, reason] of skipped) byReason[reason] = (byReason[reason] ?? 0) + 1;
  return { rows: [...valid, ...skipped.map(([row]) => row)], valid: valid.length, skipped: skipped.length, byReason };
}

async function prepare(engine: EngineName) {
  const convo = await openTestConvo(engine);
  const legacy = await legacyDb(engine);
  const users = { a: randomUUID(), b: randomUUID(), c: randomUUID(), existing: randomUUID() };
  // One legacy user id is already a Convo user's id: the import uses that user.
  await rawQuery(convo, `INSERT INTO users (id, external_id) VALUES ('${users.existing}', 'tg:777')`);
  const data = dataSet(users);
  await insertLegacy(legacy, data.rows);
  return { convo, legacy, users, data };
}

const count = async (convo: Convo, table: string) =>
  Number((await rawQuery<{ n: unknown }>(convo, `SELECT count(*) AS n FROM ${table}`))[0]?.n);

describe.each(engines)("legacy import on %s", (engine) => {
  it("dry-runs, imports with exact counts, maps every field, and adds nothing on a re-run", async () => {
    const { convo, legacy, users, data } = await prepare(engine);
    const read = data.rows.length;
    const options = { table: legacy.table, batchSize: 7 };

    const dry = await importLegacyDialogs(convo, legacy.source, { ...options, dryRun: true });
    expect(dry).toMatchObject({
      read,
      imported: data.valid,
      skipped: data.skipped,
      skippedByReason: data.byReason,
      alreadyImported: 0,
      usersCreated: 3,
      dryRun: true,
    });
    expect(await count(convo, "assistant_sessions")).toBe(0);
    expect(await count(convo, "users")).toBe(1);

    const progress: [number, number][] = [];
    const first = await importLegacyDialogs(convo, legacy.source, {
      ...options,
      env: "legacy",
      onProgress: (done, total) => {
        progress.push([done, total]);
      },
    });
    expect(first).toEqual({
      read,
      imported: data.valid,
      skipped: data.skipped,
      skippedByReason: data.byReason,
      alreadyImported: 0,
      usersCreated: 3,
      telegramUsers: null,
      lastId: expect.any(String),
      dryRun: false,
    });
    expect(progress[0]).toEqual([0, read]);
    expect(progress[progress.length - 1]).toEqual([read, read]);
    expect(progress).toHaveLength(1 + Math.ceil(read / 7));
    expect(await count(convo, "assistant_sessions")).toBe(data.valid);
    expect(await count(convo, "assistant_sessions WHERE status = 'active'")).toBe(0);
    expect(await count(convo, "assistant_sessions WHERE env = 'legacy'")).toBe(data.valid);

    const legacyUsers = await rawQuery<{ id: string; external_id: string }>(
      convo,
      "SELECT id, external_id FROM users WHERE external_id LIKE 'legacy:%'",
    );
    const userOf = (legacyId: string) =>
      legacyId === users.existing ? users.existing : legacyUsers.find((u) => u.external_id === `legacy:${legacyId}`)?.id;
    expect(legacyUsers.map((u) => u.external_id).sort()).toEqual([users.a, users.b, users.c].map((id) => `legacy:${id}`).sort());

    const dialog = async (legacyId: string, user: string) =>
      convo.dialogs.get(
        userOf(user)!,
        (
          await rawQuery<{ id: string }>(
            convo,
            `SELECT id FROM assistant_sessions WHERE import_key = 'legacy:sessions:${legacyId}'`,
          )
        )[0]!.id,
      );
    expect(await dialog(ids.confirmed, users.a)).toMatchObject({
      goal: "a birthday card for mom",
      style: "anime",
      emotion: "joy",
      pose: "wave",
      stickerText: "С днём рождения!",
      confirmed: true,
      currentStep: 7,
      status: "completed",
      env: "legacy",
      sessionId: null,
      createdAt: new Date("2025-11-01T10:00:00Z"),
      updatedAt: new Date("2025-11-01T10:05:00Z"),
      completedAt: new Date("2025-11-01T10:05:00Z"),
      importKey: `legacy:sessions:${ids.confirmed}`,
    });
    expect((await dialog(ids.confirmed, users.a)).messages).toHaveLength(3);
    expect(await dialog(ids.unconfirmed, users.a)).toMatchObject({
      goal: "cat meme",
      style: "pixel",
      currentStep: 3,
      errorCount: 1,
      status: "abandoned",
      completedAt: null,
    });
    expect(await dialog(ids.errored, users.existing)).toMatchObject({
      status: "error",
      errorCount: 3,
      currentStep: 4,
      goal: null,
    });
    expect(await dialog(ids.clamped, users.b)).toMatchObject({ goal: "stored goal", currentStep: 7, stickerText: null });
    const model = await dialog(ids.model, users.b);
    expect(model.messages).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: "Hello!" },
    ]);
    expect(model).toMatchObject({ pendingPhotoFileId: "AgAD-pending", errorCount: 0, goal: "hi" });
    expect(await dialog(ids.photoOnly, users.c)).toMatchObject({ pendingPhotoFileId: "AgAD-only", messages: [], currentStep: 0 });
    expect(await dialog(ids.doubled, users.c)).toMatchObject({ goal: "double", currentStep: 1 });

    const again = await importLegacyDialogs(convo, legacy.source, { ...options, env: "legacy" });
    expect(again).toMatchObject({
      read,
      imported: 0,
      alreadyImported: data.valid,
      skipped: data.skipped,
      skippedByReason: data.byReason,
      usersCreated: 0,
    });
    const dryAgain = await importLegacyDialogs(convo, legacy.source, { ...options, dryRun: true });
    expect(dryAgain).toMatchObject({ imported: 0, alreadyImported: data.valid, usersCreated: 0 });
    expect(await count(convo, "assistant_sessions")).toBe(data.valid);
    expect(await count(convo, "users")).toBe(4);
  });

  it("resumes after an interruption without importing anything twice", async () => {
    const { convo, legacy, data } = await prepare(engine);
    const options = { table: legacy.table, batchSize: 10 };
    const stopped = importLegacyDialogs(convo, legacy.source, {
      ...options,
      onProgress: (done) => {
        if (done >= 20) throw new Error("interrupted");
      },
    });
    await expect(stopped).rejects.toThrow("interrupted");
    const committed = await count(convo, "assistant_sessions");
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(data.valid);
    const resumed = await importLegacyDialogs(convo, legacy.source, options);
    expect(resumed).toMatchObject({
      read: data.rows.length,
      imported: data.valid - committed,
      alreadyImported: committed,
      skipped: data.skipped,
    });
    expect(await count(convo, "assistant_sessions")).toBe(data.valid);
    // Resuming after a known id reads only the rest.
    const tail = await importLegacyDialogs(convo, legacy.source, { ...options, afterId: resumed.lastId! });
    expect(tail).toMatchObject({ read: 0, imported: 0 });
  });

  it("skips a row the database refuses and imports the rest of its batch", async () => {
    const convo = await openTestConvo(engine);
    const row = (id: string, createdAt: Date, user: string = randomUUID()) => ({
      id,
      user_id: user,
      assistant_messages: [{ role: "user", content: `goal ${id.slice(0, 4)}` }],
      assistant_params: { step: 1 },
      assistant_error_count: 0,
      pending_photo_file_id: null,
      created_at: createdAt,
      updated_at: createdAt,
    });
    const rows = [
      row("00000000-0000-4000-8000-000000000001", new Date("2025-01-01T00:00:00Z")),
      // A date PostgreSQL cannot store (before 4713 BC): the batch fails, then only this row.
      row("00000000-0000-4000-8000-000000000002", new Date(-8.64e15)),
      row("00000000-0000-4000-8000-000000000003", new Date("2025-01-02T00:00:00Z"), "not-a-uuid"),
      row("00000000-0000-4000-8000-000000000004", new Date("2025-01-03T00:00:00Z")),
    ];
    // A fake source: the interface is one call.
    const source: LegacySource = {
      async query<T>(text: string, params?: unknown[]) {
        if (text.includes("pg_attribute")) {
          const columns = ["id", "user_id", "assistant_messages", "assistant_params", "created_at", "updated_at"];
          const table = params?.[0] === '"sessions"' ? columns : [];
          return { rows: table.map((name) => ({ name, type: name === "id" || name === "user_id" ? "uuid" : "jsonb" })) as T[] };
        }
        if (text.includes("count(*)")) return { rows: [{ n: rows.length }] as T[] };
        const after = text.includes("id >") ? String(params?.[0]) : "";
        return { rows: rows.filter((r) => r.id > after).slice(0, Number(params?.at(-1))) as T[] };
      },
    };
    const result = await importLegacyDialogs(convo, source);
    expect(result).toMatchObject({
      read: 4,
      imported: 2,
      skipped: 2,
      skippedByReason: { [R.rejected]: 1, [R.badUser]: 1 },
    });
    expect(await count(convo, "assistant_sessions")).toBe(2);
  });
});

describe("legacy column drop", () => {
  it("answers the operator's SQL and never runs it", () => {
    expect(legacyColumnDropSql()).toBe(
      [
        "ALTER TABLE sessions DROP COLUMN IF EXISTS assistant_messages;",
        "ALTER TABLE sessions DROP COLUMN IF EXISTS assistant_params;",
        "ALTER TABLE sessions DROP COLUMN IF EXISTS assistant_error_count;",
        "ALTER TABLE sessions DROP COLUMN IF EXISTS pending_photo_file_id;",
      ].join("\n"),
    );
    expect(legacyColumnDropSql("app.sessions")).toContain("ALTER TABLE app.sessions DROP COLUMN");
    expect(legacyColumnDropSql("App.Sessions")).toContain('ALTER TABLE "App"."Sessions" DROP COLUMN');
    expect(() => legacyColumnDropSql("sessions; DROP TABLE users")).toThrow();
  });
});

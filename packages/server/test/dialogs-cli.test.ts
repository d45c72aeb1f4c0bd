/**
 * The dialog commands as an operator runs them (real `convo` processes):
 * `convo stats` prints the numbers the library gives, and `convo import-legacy` moves a
 * legacy `sessions` table (in a schema of its own in the PostgreSQL test database) into
 * a fresh PGlite data directory or PostgreSQL schema, with exact counts, idempotently,
 * never dropping the legacy columns itself.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Convo, openConvo, LEGACY_SKIP_REASONS as R } from "@convo/core";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { dropSchema, testSchemaName } from "../../core/test/support/engines.js";
import { cleanEnv, killAll, runConvo } from "./support/cli.js";
import { engines, rawQuery } from "./support/server.js";

const DATABASE_URL = process.env.TEST_DATABASE_URL;
const SLOW = 120_000;

const temps: string[] = [];
const schemas: string[] = [];
afterEach(async () => {
  await killAll();
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
  for (const schema of schemas.splice(0)) await dropSchema("postgres", schema);
});

/** The flags and open options of a fresh target database on `engine`. */
async function freshDatabase(engine: string) {
  if (engine === "postgres") {
    const schema = testSchemaName();
    schemas.push(schema);
    return {
      args: ["--database-url", DATABASE_URL as string, "--schema", schema],
      open: { databaseUrl: DATABASE_URL, schema },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), "convo-dialogs-cli-"));
  temps.push(dir);
  const dataDir = join(dir, "data");
  return { args: ["--data-dir", dataDir], open: { dataDir } };
}

/** One line on stderr starting `convo: `. */
function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^convo: /);
  expect(lines[0]).toMatch(pattern);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The number on the line `label  <n>` of a printed table. */
function printed(stdout: string, label: string): number | undefined {
  const match = new RegExp(`^ {2,}${escapeRegExp(label)} +(\\d+)$`, "m").exec(stdout);
  return match ? Number(match[1]) : undefined;
}

/** Dialogs through the library, on four days, two envs, every status. */
async function seedThroughLibrary(convo: Convo, at: { now: Date }) {
  const day = (d: number, h = 10) => new Date(Date.UTC(2026, 3, d, h));
  const goals = ["birthday", "birthday", "birthday", "cat meme", "cat meme", "thank you", "love", "hello"];
  for (let i = 0; i < 24; i++) {
    at.now = day(1 + (i % 4), 8 + (i % 9));
    const { user } = await convo.users.create({ externalId: `stats:${i}` });
    const dialog = await convo.dialogs.create(user.id, { env: i % 3 === 0 ? "test" : "prod" });
    const slots = i % 6;
    await convo.dialogs.update(user.id, dialog.id, {
      goal: slots >= 1 ? (goals[i % goals.length] as string) : null,
      style: slots >= 2 ? ["anime", "pixel", "chibi"][i % 3] : null,
      emotion: slots >= 3 ? ["joy", "love"][i % 2] : null,
      pose: slots >= 4 ? "wave" : null,
      currentStep: Math.min(7, slots + 1),
      appendMessages: [{ role: "user", content: `line ${i}` }],
    });
    const end = i % 5;
    if (end === 0) await convo.dialogs.close(user.id, dialog.id, "completed");
    else if (end === 1) await convo.dialogs.close(user.id, dialog.id, "abandoned");
    else if (end === 2) for (let e = 0; e < 3; e++) await convo.dialogs.recordModelError(user.id, dialog.id);
    else if (end === 3) await convo.dialogs.update(user.id, dialog.id, { confirmed: true, currentStep: 7 });
    // end 4: left active
  }
}

describe.each(engines)("convo stats on %s", (engine) => {
  it("prints, as JSON and as tables, the numbers the library gives", { timeout: SLOW }, async () => {
    const db = await freshDatabase(engine);
    const at = { now: new Date() };
    const convo = await openConvo({ ...db.open, clock: () => at.now });
    let all: unknown;
    let narrowed: unknown;
    const filter = { env: "prod", from: "2026-04-02T00:00:00.000Z", to: "2026-04-04T00:00:00.000Z", limit: 2 };
    try {
      await seedThroughLibrary(convo, at);
      all = JSON.parse(JSON.stringify(await convo.dialogAnalytics.report()));
      narrowed = JSON.parse(JSON.stringify(await convo.dialogAnalytics.report(filter)));
      const statuses = await convo.dialogAnalytics.statuses();
      // The data set has every status and both envs.
      expect(Object.values(statuses).every((n) => n > 0)).toBe(true);
      expect(statuses.active + statuses.completed + statuses.abandoned + statuses.error).toBe(24);
      expect((await convo.dialogAnalytics.funnel({ env: "test" })).started).toBe(8);
    } finally {
      await convo.close();
    }

    // One process at a time: a PGlite data directory takes one.
    const json = await runConvo(["stats", "--json", ...db.args]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(all);
    expect((all as { funnel: { started: number } }).funnel.started).toBe(24);

    const filtered = await runConvo([
      "stats",
      "--json",
      "--env",
      filter.env,
      "--from",
      filter.from,
      "--to",
      filter.to,
      "--limit",
      String(filter.limit),
      ...db.args,
    ]);
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(JSON.parse(filtered.stdout)).toEqual(narrowed);
    const report = narrowed as { funnel: { started: number }; goals: unknown[] };
    expect(report.funnel.started).toBeGreaterThan(0);
    expect(report.funnel.started).toBeLessThan(24);
    expect(report.goals.length).toBeLessThanOrEqual(2);

    // The rest does not depend on the engine (core tests cover the sweep on both): checked
    // on PostgreSQL only, where a process starts in a fraction of PGlite's time.
    if (engine !== "postgres") return;

    // The tables show the same numbers; a bad filter gets one clear line.
    const [text, bad] = await Promise.all([
      runConvo(["stats", ...db.args]),
      runConvo(["stats", "--from", "yesterday", ...db.args]),
    ]);
    expect(text.code, text.stderr).toBe(0);
    const r = all as {
      funnel: Record<string, number>;
      statuses: Record<string, number>;
      goals: { goal: string; count: number }[];
    };
    for (const [key, n] of Object.entries(r.funnel)) {
      if (key !== "confirmed" && key !== "completed") expect(printed(text.stdout, key), key).toBe(n);
    }
    for (const [key, n] of Object.entries(r.statuses)) expect(printed(text.stdout, key), key).toBe(n);
    expect(printed(text.stdout, (r.goals[0] as { goal: string }).goal)).toBe(r.goals[0]?.count);
    expect(text.stdout).toMatch(/^Funnel$[\s\S]*^Statuses$[\s\S]*^Top goals$/m);

    expect(bad.code).toBe(1);
    expectOneLineError(bad.stderr, /from must be an ISO 8601 date-time/);

    // The dialogs left active were last touched in April: `convo sweep` abandons them.
    const swept = await runConvo(["sweep", ...db.args]);
    expect(swept.code, swept.stderr).toBe(0);
    expect(swept.stdout).toMatch(new RegExp(`^abandonedDialogs +${r.statuses.active}$`, "m"));
    const after = await openConvo(db.open);
    try {
      expect(await after.dialogAnalytics.statuses()).toEqual({
        ...r.statuses,
        active: 0,
        abandoned: (r.statuses.abandoned ?? 0) + (r.statuses.active ?? 0),
      });
    } finally {
      await after.close();
    }
  });
});

// ---------------------------------------------------------------------------------------
// import-legacy

interface LegacyRow {
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

/** A legacy `sessions` table in a schema of its own in the test database; dropped afterwards. */
async function legacyTable() {
  const schema = `legacy_${randomBytes(4).toString("hex")}`;
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`CREATE TABLE ${schema}.sessions (
    id uuid PRIMARY KEY,
    user_id uuid,
    state text,
    photo_file_id text,
    assistant_messages jsonb,
    assistant_params jsonb,
    assistant_error_count integer,
    pending_photo_file_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`);
  const table = `${schema}.sessions`;
  return {
    client,
    table,
    async insert(rows: LegacyRow[]) {
      for (const row of rows) {
        const messages =
          row.messages === undefined ? null : JSON.stringify(row.doubleEncoded ? JSON.stringify(row.messages) : row.messages);
        await client.query(
          `INSERT INTO ${table} (id, user_id, state, assistant_messages, assistant_params, assistant_error_count,
             pending_photo_file_id, created_at, updated_at)
           VALUES ($1, $2, 'assistant_chat', $3::jsonb, $4::jsonb, $5, $6, $7, $7::timestamptz + interval '4 minutes')`,
          [
            row.id ?? randomUUID(),
            row.user === undefined ? randomUUID() : row.user,
            messages,
            row.params === undefined ? null : JSON.stringify(row.params),
            row.errors ?? null,
            row.pending ?? null,
            row.at ?? "2025-12-01T09:00:00Z",
          ],
        );
      }
    },
    async columns(): Promise<string[]> {
      const { rows } = await client.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'sessions' ORDER BY 1",
        [schema],
      );
      return rows.map((r: { column_name: string }) => r.column_name);
    },
    async drop() {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** Good dialogs (three legacy users), and malformed rows with the reason each is skipped for. */
function legacyData() {
  const users = [randomUUID(), randomUUID(), randomUUID()];
  const completedId = randomUUID();
  const good: LegacyRow[] = [
    {
      id: completedId,
      user: users[0],
      messages: [
        { role: "assistant", content: "Для чего стикер?" },
        { role: "user", content: "  стикер на день рождения  " },
      ],
      params: { style: "anime", emotion: "joy", pose: "wave", text: "Ура!", confirmed: true, step: 7 },
      errors: 0,
    },
    { user: users[1], messages: [{ role: "user", content: "double" }], doubleEncoded: true, params: { step: "2" } },
    { user: users[2], pending: "AgAD-pending" },
  ];
  for (let i = 0; i < 12; i++) {
    good.push({
      user: users[i % 3],
      messages: [{ role: "user", content: `bulk ${i}` }],
      params: { style: ["pixel", "anime"][i % 2], step: i % 8, confirmed: i % 4 === 0 },
      errors: i % 4,
      at: `2025-11-${String(1 + i).padStart(2, "0")}T08:00:00Z`,
    });
  }
  const bad: [LegacyRow, string][] = [
    [{}, R.noData],
    [{ messages: [], params: {}, errors: 0 }, R.noData],
    [{ messages: { role: "user" } }, R.messagesNotArray],
    [{ messages: [{ role: "robot", content: "beep" }] }, R.messageShape],
    [{ messages: "not json at all" }, R.messagesNotJson],
    [{ params: [1, 2] }, R.paramsNotObject],
    [{ params: { style: 5 } }, R.paramType],
    [{ params: { step: "abc" } }, R.stepNotInteger],
    [{ params: { step: 1 }, errors: -1 }, R.errorCount],
    [{ messages: [{ role: "user", content: "a\u0000b" }], doubleEncoded: true }, R.nul],
    [{ user: null, params: { step: 2 } }, R.noUser],
  ];
  const byReason: Record<string, number> = {};
  for (const [, reason] of bad) byReason[reason] = (byReason[reason] ?? 0) + 1;
  return { rows: [...good, ...bad.map(([row]) => row)], good: good.length, bad: bad.length, byReason, users, completedId };
}

/** In the order the design drops them. */
const LEGACY_COLUMNS = ["assistant_messages", "assistant_params", "assistant_error_count", "pending_photo_file_id"];

describe.runIf(DATABASE_URL).each(engines)("convo import-legacy into %s", (engine) => {
  it("dry-runs, imports with exact counts, prints the column drop without running it, and imports nothing twice", {
    timeout: SLOW,
  }, async () => {
    const legacy = await legacyTable();
    try {
      const data = legacyData();
      await legacy.insert(data.rows);
      const columnsBefore = await legacy.columns();
      const db = await freshDatabase(engine);
      const read = data.rows.length;
      const args = ["import-legacy", "--from", DATABASE_URL as string, "--table", legacy.table, ...db.args];
      const target = async <T>(fn: (convo: Convo) => Promise<T>) => {
        const convo = await openConvo(db.open);
        try {
          return await fn(convo);
        } finally {
          await convo.close();
        }
      };
      const count = (convo: Convo, sql: string) => rawQuery<{ n: unknown }>(convo, sql).then((rows) => Number(rows[0]?.n));

      // --dry-run: the counts of a real run, nothing written.
      const dry = await runConvo([...args, "--dry-run"]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/^Dry run \(nothing written\)$/m);
      expect(printed(dry.stdout, "read")).toBe(read);
      expect(printed(dry.stdout, "would import")).toBe(data.good);
      expect(printed(dry.stdout, "skipped")).toBe(data.bad);
      for (const [reason, n] of Object.entries(data.byReason)) expect(printed(dry.stdout, reason), reason).toBe(n);
      expect(printed(dry.stdout, "users created")).toBe(3);
      expect(dry.stdout).toContain(`ALTER TABLE ${legacy.table} DROP COLUMN IF EXISTS assistant_messages;`);

      // The import. Its counts prove the dry run wrote nothing: every dialog and user is new.
      const first = await runConvo([...args, "--env", "legacy"]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^Import finished$/m);
      expect(printed(first.stdout, "read")).toBe(read);
      expect(printed(first.stdout, "imported")).toBe(data.good);
      expect(printed(first.stdout, "already imported")).toBe(0);
      expect(printed(first.stdout, "skipped")).toBe(data.bad);
      for (const [reason, n] of Object.entries(data.byReason)) expect(printed(first.stdout, reason), reason).toBe(n);
      expect(printed(first.stdout, "users created")).toBe(3);
      // The progress bar goes to stderr, the report to stdout.
      expect(first.stderr).toMatch(new RegExp(`importing \\[.*\\] 100% \\| ${read}/${read} rows`));
      expect(first.stdout).not.toContain("importing [");
      // The column drop is printed for the operator, and not run.
      const dropSql = LEGACY_COLUMNS.map((column) => `ALTER TABLE ${legacy.table} DROP COLUMN IF EXISTS ${column};`).join("\n");
      expect(first.stdout).toContain(dropSql);
      expect(await legacy.columns()).toEqual(columnsBefore);
      expect(columnsBefore).toEqual(expect.arrayContaining(LEGACY_COLUMNS));

      // A second run: everything is already there.
      const again = await runConvo([...args, "--env", "legacy"]);
      expect(again.code, again.stderr).toBe(0);
      expect(printed(again.stdout, "read")).toBe(read);
      expect(printed(again.stdout, "imported")).toBe(0);
      expect(printed(again.stdout, "already imported")).toBe(data.good);
      expect(printed(again.stdout, "skipped")).toBe(data.bad);
      expect(printed(again.stdout, "users created")).toBe(0);
      if (engine === "postgres") {
        // Resuming after a legacy id reads only the rows after it (once: each PGlite start costs seconds).
        const ids = (await legacy.client.query(`SELECT id::text AS id FROM ${legacy.table} ORDER BY id`)).rows.map(
          (r: { id: string }) => r.id,
        );
        const tail = await runConvo([...args, "--after-id", ids[ids.length - 6] as string]);
        expect(tail.code, tail.stderr).toBe(0);
        expect(printed(tail.stdout, "read")).toBe(5);
        expect(printed(tail.stdout, "imported")).toBe(0);
      }

      const stored = await target(async (convo) => {
        const rows = await rawQuery<Record<string, unknown>>(
          convo,
          `SELECT goal, style, emotion, pose, sticker_text, confirmed, current_step, status, env, error_count,
                  completed_at IS NOT NULL AS has_completed, jsonb_array_length(messages) AS lines
           FROM assistant_sessions WHERE import_key = 'legacy:sessions:${data.completedId}'`,
        );
        return {
          total: await count(convo, "SELECT count(*) AS n FROM assistant_sessions"),
          legacyEnv: await count(convo, "SELECT count(*) AS n FROM assistant_sessions WHERE env = 'legacy'"),
          active: await count(convo, "SELECT count(*) AS n FROM assistant_sessions WHERE status = 'active'"),
          users: await count(convo, "SELECT count(*) AS n FROM users WHERE external_id LIKE 'legacy:%'"),
          completed: rows[0],
        };
      });
      expect(stored).toMatchObject({ total: data.good, legacyEnv: data.good, active: 0, users: 3 });
      expect(stored.completed).toMatchObject({
        goal: "стикер на день рождения",
        style: "anime",
        emotion: "joy",
        pose: "wave",
        sticker_text: "Ура!",
        confirmed: true,
        current_step: 7,
        status: "completed",
        env: "legacy",
        has_completed: true,
      });
      expect(Number(stored.completed?.lines)).toBe(2);
      expect(await legacy.columns()).toEqual(columnsBefore);
    } finally {
      await legacy.drop();
    }
  });
});

describe("convo import-legacy with a bad source", () => {
  it("exits 1 with one clear line and writes nothing", { timeout: SLOW }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "convo-dialogs-cli-"));
    temps.push(dir);
    const dataDir = join(dir, "data");
    const run = (from: string) => runConvo(["import-legacy", "--from", from, "--data-dir", dataDir], cleanEnv());
    // A reachable PostgreSQL without that database, when there is one to ask.
    const noDatabase = DATABASE_URL
      ? Object.assign(new URL(DATABASE_URL), { pathname: "/convo_no_such_database" }).href
      : undefined;
    const [notUrl, mysql, unreachable, missing, unknownDb] = await Promise.all([
      run("not a url"),
      run("mysql://root:secret@127.0.0.1/app"),
      run("postgres://convo:secret@127.0.0.1:1/app"),
      runConvo(["import-legacy", "--data-dir", dataDir]),
      noDatabase ? run(noDatabase) : undefined,
    ]);
    for (const result of [notUrl, mysql, unreachable, unknownDb]) {
      if (!result) continue;
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).not.toContain("secret");
    }
    expectOneLineError(notUrl.stderr, /--from is not a URL/);
    expectOneLineError(mysql.stderr, /--from must start with postgres:\/\//);
    expectOneLineError(unreachable.stderr, /Cannot connect to the legacy database at --from: .*ECONNREFUSED/);
    if (unknownDb) {
      expectOneLineError(
        unknownDb.stderr,
        /Cannot connect to the legacy database at --from: .*convo_no_such_database.* does not exist/,
      );
    }
    // A missing --from is refused by the command line itself.
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("--from");
    // Nothing was created for the import's target.
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe.runIf(DATABASE_URL)("convo import-legacy on the table a new user has", () => {
  it("refuses a missing column before any work, naming it; imports a table without updated_at, users by Telegram id", {
    timeout: SLOW,
  }, async () => {
    const schema = `legacy_${randomBytes(4).toString("hex")}`;
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`CREATE TABLE ${schema}.users (id serial PRIMARY KEY, telegram_id bigint)`);
      await client.query(
        `CREATE TABLE ${schema}.sessions (id serial PRIMARY KEY, user_id integer, assistant_messages jsonb, created_at timestamptz DEFAULT now())`,
      );
      await client.query(`INSERT INTO ${schema}.users (telegram_id) VALUES (480637186)`);
      await client.query(
        `INSERT INTO ${schema}.sessions (user_id, assistant_messages) VALUES (1, '[{"role":"user","content":"кот"}]')`,
      );
      const dir = await mkdtemp(join(tmpdir(), "convo-dialogs-cli-"));
      temps.push(dir);
      const args = [
        "import-legacy",
        "--from",
        DATABASE_URL as string,
        "--table",
        `${schema}.sessions`,
        "--data-dir",
        join(dir, "data"),
      ];

      const refused = await runConvo(args, cleanEnv());
      expect(refused.code).toBe(1);
      expectOneLineError(refused.stderr, /has no column "assistant_params" \(the slots .*\)\. The import needs id, user_id/);
      expect(refused.stderr).not.toContain("importing [");

      await client.query(`ALTER TABLE ${schema}.sessions ADD COLUMN assistant_params jsonb`);
      const done = await runConvo(args, cleanEnv());
      expect(done.code, done.stderr).toBe(0);
      expect(printed(done.stdout, "imported")).toBe(1);
      expect(done.stdout).toContain(`Users with a Telegram id in ${schema}.users are the bot's users tg:<id>`);
      const convo = await openConvo({ dataDir: join(dir, "data") });
      try {
        expect(await rawQuery(convo, "SELECT external_id FROM users")).toEqual([{ external_id: "tg:480637186" }]);
      } finally {
        await convo.close();
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});

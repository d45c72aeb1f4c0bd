import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { queryText } from "../src/db/engine.js";
import { DataDirectoryLockedError, openConvo } from "../src/index.js";
import { dropSchema, engineOptions, engines, openTestConvo, rawQuery, testSchemaName } from "./support/engines.js";

const run = promisify(execFile);

describe.each(engines)("unit of work on %s", (engine) => {
  it("rolls back everything when the work throws", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({ externalId: "u1" });
    const conversation = await convo.conversations.create(user.id);
    await expect(
      convo.transaction(async () => {
        await convo.messages.append(user.id, conversation.id, { role: "user", content: "first" });
        await convo.conversations.create(user.id, { title: "second" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await rawQuery(convo, "SELECT * FROM messages")).toHaveLength(0);
    expect(await rawQuery(convo, "SELECT * FROM conversations")).toHaveLength(1);
    const [row] = await rawQuery<{ message_count: number; last_seq: number }>(
      convo,
      "SELECT message_count, last_seq FROM conversations",
    );
    expect(row).toEqual({ message_count: 0, last_seq: 0 });
    const [total] = await rawQuery<{ total: number }>(convo, "SELECT total FROM conversation_totals");
    expect(total?.total).toBe(1);
    // The connection is usable after the rollback (PGlite has only one).
    const { message } = await convo.messages.append(user.id, conversation.id, { role: "user", content: "after" });
    expect(message.seq).toBe(1);
  });

  it("joins nested calls to the outer transaction", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const result = await convo.transaction(async (outer) => {
      const conversation = await convo.conversations.create(user.id);
      const inner = await convo.transaction(async (uow) => uow);
      await convo.messages.append(user.id, conversation.id, { role: "user", content: "x" });
      return { same: inner === outer, conversation };
    });
    expect(result.same).toBe(true);
    expect((await convo.conversations.get(user.id, result.conversation.id)).messages).toHaveLength(1);
  });

  it("runs after-commit hooks only after a commit", async () => {
    const convo = await openTestConvo(engine);
    const seen: string[] = [];
    await convo.transaction(async (uow) => {
      uow.afterCommit(() => {
        seen.push("committed");
      });
    });
    await expect(
      convo.transaction(async (uow) => {
        uow.afterCommit(() => {
          seen.push("rolled back");
        });
        throw new Error("no");
      }),
    ).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual(["committed"]);
  });

  it("closes twice without an error", async () => {
    const schema = testSchemaName();
    const convo = await openConvo(await engineOptions(engine, schema));
    await convo.close();
    await expect(convo.close()).resolves.toBeUndefined();
    await dropSchema(engine, schema);
  });

  it("answers counts as numbers", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    await convo.conversations.create(user.id);
    const list = await convo.conversations.list(user.id);
    expect(list.total).toBe(1);
    expect(typeof list.items[0]?.messageCount).toBe("number");
  });

  it("answers timestamptz as Dates to the millisecond, whatever offset PostgreSQL writes", async () => {
    const convo = await openTestConvo(engine);
    // The driver path the hot reads take (Drizzle's own queries answer timestamps as text).
    const [row] = await queryText<Record<string, unknown>>(
      convo.store.engine.db,
      `SELECT '2026-12-05 07:00:00.123456+00'::timestamptz AS utc,
              '2026-12-05 12:30:00.5+05:30'::timestamptz AS shifted,
              'infinity'::timestamptz AS forever,
              NULL::timestamptz AS missing`,
      [],
    );
    if (!row) throw new Error("no row");
    expect(row.utc).toBeInstanceOf(Date);
    expect((row.utc as Date).toISOString()).toBe("2026-12-05T07:00:00.123Z");
    expect((row.shifted as Date).toISOString()).toBe("2026-12-05T07:00:00.500Z");
    expect(row.forever).toBe(Number.POSITIVE_INFINITY);
    expect(row.missing).toBeNull();
  });
});

describe("PGlite data directory", () => {
  const script = (dir: string) =>
    `import { openConvo } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).pathname)};
     try { const c = await openConvo({ dataDir: ${JSON.stringify(dir)} }); await c.close(); console.log("opened"); }
     catch (e) { console.log(e.code ?? e.message); }`;

  it("refuses a second process while the first holds it, and persists data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "convo-lock-"));
    try {
      const convo = await openConvo({ dataDir: dir });
      const { user } = await convo.users.create({ externalId: "persisted" });
      const file = join(dir, "..", `${dir.split("/").pop()}-probe.mts`);
      writeFileSync(file, script(dir));
      const { stdout } = await run(process.execPath, ["--import", "tsx", file], { cwd: process.cwd() });
      expect(stdout.trim()).toBe("DATA_DIRECTORY_LOCKED");
      await convo.close();
      const reopened = await openConvo({ dataDir: dir });
      expect((await reopened.users.get(user.id)).externalId).toBe("persisted");
      await reopened.close();
      rmSync(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("restores a fresh directory from the build's migrated template, every migration applied", async () => {
    const dir = mkdtempSync(join(tmpdir(), "convo-fresh-"));
    try {
      // The build writes the template (packages/core/scripts/make-pglite-template.mjs).
      expect(existsSync(new URL("../template/pglite-data.tar.gz", import.meta.url))).toBe(true);
      const convo = await openConvo({ dataDir: dir });
      expect(existsSync(join(dir, "PG_VERSION"))).toBe(true);
      const journal = JSON.parse(readFileSync(new URL("../migrations/meta/_journal.json", import.meta.url), "utf8"));
      const [row] = await rawQuery<{ n: number | string }>(convo, "SELECT count(*) AS n FROM public.__convo_migrations");
      expect(Number(row?.n)).toBe(journal.entries.length);
      const { user } = await convo.users.create({ externalId: "fresh" });
      await convo.messages.appendToCurrent(user.id, { role: "user", content: "Привет из шаблона" });
      await convo.close();
      const reopened = await openConvo({ dataDir: dir });
      expect(
        (await reopened.messages.last(user.id, (await reopened.conversations.list(user.id)).items[0]!.id)).map((m) => m.content),
      ).toEqual(["Привет из шаблона"]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes over the lock of a process that died", async () => {
    const dir = mkdtempSync(join(tmpdir(), "convo-stale-"));
    try {
      // A pid that cannot be alive: beyond the kernel's pid_max.
      writeFileSync(join(dir, "convo.lock"), "2147483646");
      const convo = await openConvo({ dataDir: dir });
      await expect(openConvo({ dataDir: dir })).rejects.toBeInstanceOf(DataDirectoryLockedError);
      await convo.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

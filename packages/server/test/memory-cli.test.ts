/** `convo summarize --backfill` as an operator runs it (a real `convo` process). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConvo } from "@convo/core";
import { afterEach, describe, expect, it } from "vitest";
import { dropSchema, testSchemaName } from "../../core/test/support/engines.js";
import { killAll, runConvo } from "./support/cli.js";
import { engines, rawQuery } from "./support/server.js";

const SLOW = 120_000;
const temps: string[] = [];
const schemas: string[] = [];
afterEach(async () => {
  await killAll();
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
  for (const schema of schemas.splice(0)) await dropSchema("postgres", schema);
});

async function freshDatabase(engine: string) {
  if (engine === "postgres") {
    const schema = testSchemaName();
    schemas.push(schema);
    const databaseUrl = process.env.TEST_DATABASE_URL as string;
    return { args: ["--database-url", databaseUrl, "--schema", schema], open: { databaseUrl, schema } };
  }
  const dir = await mkdtemp(join(tmpdir(), "convo-summarize-cli-"));
  temps.push(dir);
  const dataDir = join(dir, "data");
  return { args: ["--data-dir", dataDir], open: { dataDir } };
}

describe.each(engines)("convo summarize on %s", (engine) => {
  it("backfills the summaries of conversations closed before summaries existed", { timeout: SLOW }, async () => {
    const db = await freshDatabase(engine);
    const convo = await openConvo(db.open);
    const { user } = await convo.users.create({});
    const ids: string[] = [];
    for (const text of ["Хочу стикер с котом", "Need a dog sticker"]) {
      const c = await convo.conversations.create(user.id);
      await convo.messages.append(user.id, c.id, { role: "user", content: text });
      ids.push(c.id);
    }
    const empty = await convo.conversations.create(user.id);
    // Closed the way conversations were closed before summaries: nothing due, no summary.
    await rawQuery(convo, "ALTER TABLE conversations DISABLE TRIGGER conversations_closed");
    await rawQuery(convo, "UPDATE conversations SET closed_at = now(), close_reason = 'app'");
    await rawQuery(convo, "ALTER TABLE conversations ENABLE TRIGGER conversations_closed");
    await convo.close();

    const run = await runConvo(["summarize", "--backfill", "--batch-size", "1", ...db.args]);
    expect(run.stderr).toContain("summarized 2 of 2"); // the empty conversation has nothing to summarize
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe("written 2, failed 0, seen 2");
    const again = await runConvo(["summarize", "--backfill", ...db.args]);
    expect(again.stdout.trim()).toBe("written 0, failed 0, seen 0");

    const reopened = await openConvo(db.open);
    try {
      expect((await reopened.conversations.summary(user.id, ids[0] as string)).summary).toBe("Goal: Хочу стикер с котом");
      expect((await reopened.conversations.summary(user.id, ids[1] as string)).summary).toBe("Goal: Need a dog sticker");
      expect((await reopened.conversations.summary(user.id, empty.id)).summary).toBeNull();
    } finally {
      await reopened.close();
    }
  });
});

import { describe, expect, it } from "vitest";
import { ERASED_TABLES, NON_USER_TABLES } from "../src/erasure/index.js";
import { type Convo, NotFoundError } from "../src/index.js";
import { closeSettled, engines, openTestConvo, rawQuery } from "./support/engines.js";
import { untilEnd } from "./support/runs.js";

/** A user with a row in every table that can hold user data. */
async function busyUser(convo: Convo, name: string) {
  const { user } = await convo.users.create({ externalId: `ext:${name}`, displayName: name, profile: { pet: "кот" } });
  const c = await convo.conversations.create(user.id);
  await convo.messages.append(user.id, c.id, { role: "user", content: `Привет от ${name} 🐱` });
  await convo.state.replace(user.id, c.id, { step: 1 }, 0);
  const { run } = await convo.runs.start(user.id, c.id, { content: "Который час?" });
  await untilEnd(convo, user.id, run.id);
  await convo.dialogs.create(user.id, { sessionId: c.id });
  await closeSettled(convo, user.id, c.id);
  return { userId: user.id, conversationId: c.id };
}

const offline = { runs: { models: { env: {}, offline: { chunkDelayMs: 0 } } } };

describe.each(engines)("export and erasure on %s", (engine) => {
  it("exports a user with 10,000 messages as NDJSON, reading one batch at a time", async () => {
    const convo = await openTestConvo(engine, offline);
    const me = await busyUser(convo, "me");
    const other = await busyUser(convo, "other");
    // 10,000 messages seeded in one statement (the append path is measured elsewhere).
    await rawQuery(
      convo,
      `INSERT INTO messages (user_id, conversation_id, seq, role, content)
       SELECT '${me.userId}', '${me.conversationId}', 100 + g, 'user', 'сообщение ' || g FROM generate_series(1, 10000) g`,
    );

    const batches: string[] = [];
    const iterator = convo.exports
      .ndjson(me.userId, { batchSize: 500, onBatch: (type) => batches.push(type) })
      [Symbol.asyncIterator]();
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const next = await iterator.next();
      if (next.done) break;
      lines.push(next.value);
    }
    // 1,000 lines in: the user, the conversation and two batches of messages were read, nothing ahead.
    expect(batches).toEqual(["user", "conversation", "message", "message"]);
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      lines.push(next.value);
    }
    const records = lines.map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    const count = (type: string) => records.filter((r) => r.type === type).length;
    expect(records[0]).toMatchObject({ type: "export", data: { userId: me.userId } });
    expect(count("user")).toBe(1);
    expect(count("message")).toBe(10_000 + 3); // seeded + "Привет", the run's question and answer
    expect(count("run")).toBe(1);
    expect(count("run_event")).toBeGreaterThan(1);
    expect(count("state")).toBe(1);
    expect(count("dialog")).toBe(1);
    expect(lines.every((l) => !l.includes(other.userId))).toBe(true);
    expect(records.find((r) => r.type === "user")?.data).toMatchObject({ displayName: "me", profile: { pet: "кот" } });
    expect(batches.filter((b) => b === "message")).toHaveLength(21); // 10,003 rows in batches of 500

    await expect(convo.exports.ndjson("00000000-0000-4000-8000-000000000000").next()).rejects.toBeInstanceOf(NotFoundError);
  });

  it("erases every row about the user, in every table of the catalog, and nothing of anyone else", async () => {
    const convo = await openTestConvo(engine, { ...offline, webhooks: { timeoutMs: 2_000 } });
    // A subscription to a port nobody listens on: the events, deliveries and failed attempts hold the user's id too.
    await convo.webhooks.subscribe({ url: "http://127.0.0.1:9/hooks", events: ["run.completed", "conversation.closed"] });
    const me = await busyUser(convo, "me");
    const other = await busyUser(convo, "other");
    // Their closed conversations in the search index too (3 messages each: "Привет", the run's question and answer).
    expect(await convo.search.indexPending()).toEqual({ messages: 6, conversations: 2 });
    expect((await convo.webhooks.deliverPending()).retrying).toBe(4);
    const schema = convo.store.engine.schema;

    // The catalog, not a hand list: every table either is erased by user or holds no user data.
    const tables = (
      await rawQuery<{ table_name: string }>(
        convo,
        `SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' AND table_type = 'BASE TABLE'`,
      )
    ).map((t) => t.table_name);
    const covered = new Set<string>([...ERASED_TABLES, ...NON_USER_TABLES]);
    expect(tables.filter((t) => !covered.has(t))).toEqual([]);
    const withUserId = (
      await rawQuery<{ table_name: string }>(
        convo,
        `SELECT table_name FROM information_schema.columns WHERE table_schema = '${schema}' AND column_name = 'user_id'`,
      )
    ).map((t) => t.table_name);
    expect(withUserId.filter((t) => !(ERASED_TABLES as readonly string[]).includes(t))).toEqual([]);

    // Where the user's id appears anywhere in a row, as any column's text.
    const rowsMentioning = async (id: string) => {
      const found: Record<string, number> = {};
      for (const table of tables) {
        const [row] = await rawQuery<{ n: number }>(
          convo,
          `SELECT count(*)::int AS n FROM "${table}" t WHERE strpos(row_to_json(t)::text, '${id}') > 0`,
        );
        if (Number(row?.n) > 0) found[table] = Number(row?.n);
      }
      return found;
    };
    const before = await rowsMentioning(me.userId);
    const otherBefore = await rowsMentioning(other.userId);
    expect(Object.keys(before).sort()).toEqual([...ERASED_TABLES].sort());

    const receipt = await convo.erasure.erase(me.userId);
    expect(await rowsMentioning(me.userId)).toEqual({});
    expect(await rowsMentioning(other.userId)).toEqual(otherBefore);
    for (const [table, n] of Object.entries(before)) expect(receipt.tables[table as keyof typeof receipt.tables]).toBe(n);
    expect(receipt.total).toBe(Object.values(receipt.tables).reduce((a, b) => a + b, 0));
    expect(Object.keys(receipt.tables).sort()).toEqual([...ERASED_TABLES].sort());

    await expect(convo.erasure.erase(me.userId)).rejects.toBeInstanceOf(NotFoundError);
    expect((await convo.context.load(other.userId)).userProfile).toEqual({ pet: "кот" });
  });
});

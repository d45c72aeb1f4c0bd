/**
 * Runs across real `convo serve` processes: a node killed with SIGKILL mid-run (the
 * restarted node's sweep ends the run "interrupted"), and two nodes on one PostgreSQL
 * schema (start on A, stream and cancel from B, A stops).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { dropSchema, testSchemaName } from "../../core/test/support/engines.js";
import { cleanEnv, killAll, serveConvo, stop } from "./support/cli.js";
import {
  deltas,
  type Json,
  openApi,
  openSse,
  pollToEnd,
  pollUntilType,
  until,
  userAndConversation,
} from "./support/runs-http.js";
import { engines } from "./support/server.js";

const DATABASE_URL = process.env.TEST_DATABASE_URL;
const SLOW = 120_000;

const temps: string[] = [];
const schemas: string[] = [];
afterEach(async () => {
  await killAll();
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
  for (const schema of schemas.splice(0)) await dropSchema("postgres", schema);
});

/** Slow offline model, short leases, a frequent sweep, no logs. */
const nodeEnv = (extra: Record<string, string> = {}) =>
  cleanEnv({
    CONVO_OFFLINE_CHUNK_DELAY_MS: "200",
    CONVO_RUN_LEASE_MS: "1500",
    CONVO_RUN_HEARTBEAT_MS: "300",
    CONVO_LOG_LEVEL: "silent",
    ...extra,
  });

/** The flags and environment of a fresh database on `engine` (a temp data dir, or a fresh schema). */
async function freshDatabase(engine: string): Promise<{ args: string[]; env: Record<string, string>; dataDir?: string }> {
  if (engine === "postgres") {
    const schema = testSchemaName();
    schemas.push(schema);
    return { args: ["--schema", schema], env: { DATABASE_URL: DATABASE_URL as string } };
  }
  const dir = await mkdtemp(join(tmpdir(), "convo-runs-"));
  temps.push(dir);
  const dataDir = join(dir, "data");
  return { args: ["--data-dir", dataDir], env: {}, dataDir };
}

const serveArgs = ["--port", "0", "--host", "127.0.0.1", "--sweep-interval", "200"];

/** The offline model repeats the message: a long one makes an answer of many slow chunks. */
const LONG = `Опиши подробно ${"ёжика в тумане 🦔 ".repeat(12)}`.trim();

describe.each(engines)("a node killed mid-run on %s", (engine) => {
  it("ends the run as error 'interrupted' after a restart: the user message once, no assistant message", {
    timeout: SLOW,
  }, async () => {
    const db = await freshDatabase(engine);
    const env = nodeEnv(db.env);
    const first = await serveConvo([...serveArgs, ...db.args], env);
    const api = openApi(first.url);
    const { conversationId } = await userAndConversation(api);
    const started = await api("POST", `/v1/conversations/${conversationId}/runs`, {
      body: { content: LONG, clientMessageId: "before-the-crash" },
    });
    expect(started.status, started.text).toBe(202);
    const { runId } = started.json;
    const before = await pollUntilType(api, runId, ["delta"]);
    expect(before.some((e) => ["done", "error", "cancelled"].includes(e.type))).toBe(false);

    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    // PGlite: the dead process's pid lock is left behind, for the next process to take over.
    if (db.dataDir) expect(readFileSync(join(db.dataDir, "convo.lock"), "utf8")).toBe(String(first.child.pid));

    // A new process on the same database (PGlite: it takes over the dead process's lock).
    const second = await serveConvo([...serveArgs, ...db.args], env);
    if (db.dataDir) expect(readFileSync(join(db.dataDir, "convo.lock"), "utf8")).toBe(String(second.child.pid));
    const api2 = openApi(second.url);
    const ended = await until(`run ${runId} to be ended by the restarted node's sweep`, async () => {
      const record = await api2("GET", `/v1/runs/${runId}`);
      expect(record.status, record.text).toBe(200);
      return record.json.status === "running" ? undefined : record.json;
    });
    expect(ended).toMatchObject({ status: "error", finalResponse: null, assistantMessageId: null });
    expect(ended.error).toContain("interrupted");

    const events = await pollToEnd(api2, runId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.slice(0, before.length)).toEqual(before); // what was stored before the crash stays
    const terminal = events.filter((e) => ["done", "error", "cancelled"].includes(e.type));
    expect(terminal).toEqual([events.at(-1)]);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "INTERRUPTED" });
    expect(events.at(-1).content).toContain("interrupted");
    expect(ended.lastEventSeq).toBe(events.at(-1).seq);
    const said = deltas(events);
    expect(said.length).toBeGreaterThan(0);
    expect(`Вы написали: «${LONG}»`.startsWith(said) || said.startsWith(`Вы написали: «${LONG}»`)).toBe(true);

    const messages = async () => (await api2("GET", `/v1/conversations/${conversationId}/messages`)).json.messages;
    expect((await messages()).map((m: Json) => [m.role, m.content])).toEqual([["user", LONG]]);
    // A retried start answers the ended run and stores nothing.
    const retried = await api2("POST", `/v1/conversations/${conversationId}/runs`, {
      body: { content: LONG, clientMessageId: "before-the-crash" },
    });
    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ runId, status: "error" });
    expect(await messages()).toHaveLength(1);

    // The conversation is free again: the restarted node takes a new run. Stopped
    // gracefully (SIGTERM) mid-run, the node ends that run itself, at once, as interrupted.
    const next = await api2("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: LONG } });
    expect(next.status, next.text).toBe(202);
    const nextBefore = await pollUntilType(api2, next.json.runId, ["delta"]);
    expect(await stop(second)).toBe(0);
    if (db.dataDir) expect(existsSync(join(db.dataDir, "convo.lock"))).toBe(false);
    const third = await serveConvo([...serveArgs, ...db.args], env);
    const api3 = openApi(third.url);
    const nextEvents = await pollToEnd(api3, next.json.runId);
    expect(nextEvents.slice(0, nextBefore.length)).toEqual(nextBefore);
    expect(nextEvents.at(-1)).toMatchObject({ type: "error", code: "INTERRUPTED", content: "interrupted: node shutting down" });
    expect((await api3("GET", `/v1/conversations/${conversationId}/messages`)).json.messages.map((m: Json) => m.role)).toEqual([
      "user",
      "user",
    ]);
  });
});

describe.skipIf(!DATABASE_URL)("two server processes on one PostgreSQL", () => {
  it("starts a run on A, streams it from B, cancels it from B: A's execution stops", { timeout: SLOW }, async () => {
    const db = await freshDatabase("postgres");
    // One after the other: the first applies the migrations.
    const a = await serveConvo(
      [...serveArgs, ...db.args],
      nodeEnv({ ...db.env, CONVO_NODE_ID: "node-a", CONVO_MAX_RUNS_PER_NODE: "1" }),
    );
    const b = await serveConvo([...serveArgs, ...db.args], nodeEnv({ ...db.env, CONVO_NODE_ID: "node-b" }));
    const apiA = openApi(a.url);
    const apiB = openApi(b.url);

    const { conversationId } = await userAndConversation(apiA);
    // A second device follows the conversation on B before the run starts on A.
    const device = await openSse(b.url, `/v1/conversations/${conversationId}/stream`);
    const started = await apiA("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: LONG } });
    expect(started.status, started.text).toBe(202);
    const { runId } = started.json;
    const userMessage = await device.next();
    expect(userMessage?.event).toBe("message");
    expect(JSON.parse(userMessage?.data ?? "{}")).toMatchObject({ seq: 1, role: "user", content: LONG });
    const firstRunEvent = await device.next();
    expect(firstRunEvent?.event).toBe("run_event");
    expect(JSON.parse(firstRunEvent?.data ?? "{}")).toMatchObject({ runId, seq: 1, type: "thinking" });

    // B streams the run A executes: its events arrive through A's notifications.
    const stream = await openSse(b.url, `/v1/runs/${runId}/stream`);
    const seen: Json[] = [];
    while (seen.filter((e) => e.type === "delta").length < 3) {
      const next = await stream.next();
      if (!next) throw new Error(`B's stream ended early: ${JSON.stringify(seen)}`);
      seen.push(JSON.parse(next.data));
    }
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));

    const cancel = await apiB("POST", `/v1/runs/${runId}/cancel`);
    expect(cancel.status, cancel.text).toBe(200);
    for (let next = await stream.next(); next; next = await stream.next()) seen.push(JSON.parse(next.data));
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)).toMatchObject({ type: "cancelled", content: "cancelled by request" });

    // The device on B saw the same run, to its end.
    const deviceEvents = [JSON.parse(firstRunEvent?.data ?? "{}")];
    while (deviceEvents.at(-1)?.type !== "cancelled") {
      const next = await device.next();
      if (!next) throw new Error("the conversation stream ended");
      expect(next.event).toBe("run_event");
      deviceEvents.push(JSON.parse(next.data));
    }
    expect(deviceEvents).toEqual(seen);
    device.close();

    // Both nodes see the run cancelled, with the same events.
    for (const api of [apiA, apiB]) {
      const record = await api("GET", `/v1/runs/${runId}`);
      expect(record.json).toMatchObject({ status: "cancelled", finalResponse: null, assistantMessageId: null });
      expect((await api("GET", `/v1/runs/${runId}/events`)).json.events).toEqual(seen);
    }
    // A stopped: over several of its chunk intervals, no delta is added.
    const count = async () => (await apiA("GET", `/v1/runs/${runId}/events`)).json.events.length;
    const settled = await count();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await count()).toBe(settled);
    const said = deltas(seen);
    expect(said.length).toBeGreaterThan(0);
    expect(said).not.toContain("CONVO_MODEL"); // the answer was cut off
    const messages = (await apiB("GET", `/v1/conversations/${conversationId}/messages`)).json.messages;
    expect(messages.map((m: Json) => m.role)).toEqual(["user"]);

    // A executes one run at most (CONVO_MAX_RUNS_PER_NODE=1) and takes a new one: its
    // executor let go of the cancelled run (a 429 would say it still holds it).
    const next = await until("node A to take a new run", async () => {
      const res = await apiA("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Ещё" } });
      if (res.status === 429) return undefined;
      expect(res.status, res.text).toBe(202);
      return res;
    });
    expect((await apiB("POST", `/v1/runs/${next.json.runId}/cancel`)).status).toBe(200);
    expect((await pollToEnd(apiB, next.json.runId)).at(-1).type).toBe("cancelled");
  });
});

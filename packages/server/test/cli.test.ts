/**
 * The `convo` command as a user runs it: real processes, a fresh temp data directory
 * for PGlite, a fresh schema on PostgreSQL (when TEST_DATABASE_URL is set).
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConvo } from "@convo/core";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { dropSchema, testSchemaName } from "../../core/test/support/engines.js";
import { cleanEnv, counter, eventually, killAll, runConvo, serveConvo, stop } from "./support/cli.js";
import { engines, request } from "./support/server.js";

const DATABASE_URL = process.env.TEST_DATABASE_URL;
const SLOW = 180_000;
const HOUR = 3_600_000;
const SECRET = "cli-test-secret-cli-test-secret";

const temps: string[] = [];
const schemas: string[] = [];
afterEach(async () => {
  await killAll();
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
  for (const schema of schemas.splice(0)) await dropSchema("postgres", schema);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "convo-cli-"));
  temps.push(dir);
  return dir;
}

/** The `--data-dir` or `--database-url --schema` flags of a fresh database on `engine`. */
async function freshDatabase(engine: string) {
  if (engine === "postgres") {
    const schema = testSchemaName();
    schemas.push(schema);
    return { args: ["--database-url", DATABASE_URL as string, "--schema", schema], open: { databaseUrl: DATABASE_URL, schema } };
  }
  const dataDir = join(await tempDir(), "data");
  return { args: ["--data-dir", dataDir], open: { dataDir } };
}

/** One line on stderr starting `convo: `. */
function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^convo: /);
  expect(lines[0]).toMatch(pattern);
}

describe("convo CLI", () => {
  it("prints --help for every command and exits 0", { timeout: SLOW }, async () => {
    const commands = [
      [],
      ["serve"],
      ["migrate"],
      ["sweep"],
      ["keys"],
      ["keys", "create"],
      ["keys", "list"],
      ["keys", "revoke"],
      ["token"],
    ];
    const results = await Promise.all(commands.map((command) => runConvo([...command, "--help"])));
    results.forEach((result, i) => {
      const name = ["convo", ...(commands[i] as string[])].join(" ");
      expect(result.code, `${name} --help: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`Usage: ${name}`);
    });
    expect(results[0]?.stdout).toMatch(/serve[\s\S]*migrate[\s\S]*sweep[\s\S]*keys[\s\S]*token/);
    expect(results[1]?.stdout).toContain("--port");
    expect(results[1]?.stdout).toContain("--database-url");
  });

  it("refuses a bad database URL with exit code 1 and one clear line", { timeout: SLOW }, async () => {
    const [notUrl, mysql, unreachable, migrate] = await Promise.all([
      runConvo(["serve", "--database-url", "not a url"]),
      runConvo(["serve", "--port", "0", "--database-url", "mysql://root@127.0.0.1/convo"]),
      runConvo(["serve", "--port", "0", "--database-url", "postgres://convo:secret@127.0.0.1:1/convo"]),
      runConvo(["migrate", "--database-url", "nonsense"]),
    ]);
    for (const result of [notUrl, mysql, unreachable, migrate]) expect(result.code, result.stderr).toBe(1);
    expectOneLineError(notUrl.stderr, /DATABASE_URL is not a URL/);
    expectOneLineError(mysql.stderr, /must start with postgres:\/\//);
    expectOneLineError(unreachable.stderr, /Cannot open the PostgreSQL at DATABASE_URL: .*ECONNREFUSED/);
    expect(unreachable.stderr).not.toContain("secret");
    expectOneLineError(migrate.stderr, /DATABASE_URL is not a URL/);
  });

  it("serves a fresh data directory, accepts `convo token` tokens, refuses a directory in use and a busy port", {
    timeout: SLOW,
  }, async () => {
    const dataDir = join(await tempDir(), "fresh");
    const env = cleanEnv({ CONVO_JWT_SECRET: SECRET });
    const node = await serveConvo(["--data-dir", dataDir, "--port", "0", "--host", "127.0.0.1", "--sweep-interval", "0"], env);
    const port = Number(new URL(node.url).port);
    expect(port, node.stdout()).toBeGreaterThan(0);
    expect(node.url).toBe(`http://127.0.0.1:${port}`);
    expect(node.stdout()).toContain(`PGlite in ${dataDir}`);
    expect(node.stdout()).toMatch(/auth: +Authorization: Bearer/);
    const ready = await request(node.url, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: "ready", engine: "pglite" });

    // `convo token` mints a token this server accepts: its user does not exist (404), but
    // the credential passes, where a missing or forged one is 401.
    const userId = randomUUID();
    const [minted, forged] = await Promise.all([
      runConvo(["token", userId], env),
      runConvo(["token", userId], cleanEnv({ CONVO_JWT_SECRET: "another-secret-another-secret" })),
    ]);
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const asUser = await request(node.url, "GET", `/v1/users/${userId}`, { token });
    expect(asUser.status, asUser.text).toBe(404);
    expect(asUser.json.error.code).toBe("NOT_FOUND");
    expect((await request(node.url, "GET", `/v1/users/${userId}`)).status).toBe(401);
    expect((await request(node.url, "GET", `/v1/users/${userId}`, { token: forged.stdout.trim() })).status).toBe(401);

    // A second process on the same directory is refused, naming it.
    const second = await runConvo(["serve", "--data-dir", dataDir, "--port", "0"]);
    expect(second.code).toBe(1);
    expectOneLineError(
      second.stderr,
      new RegExp(`data directory ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by process ${node.child.pid}`),
    );
    const keys = await runConvo(["keys", "list", "--data-dir", dataDir]);
    expect(keys.code).toBe(1);
    expect(keys.stderr).toContain(dataDir);

    expect(await stop(node)).toBe(0);
    expect(existsSync(join(dataDir, "convo.lock"))).toBe(false);

    // A busy port: a clear message naming it.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const busyPort = (blocker.address() as AddressInfo).port;
      const busy = await runConvo(["serve", "--data-dir", dataDir, "--port", String(busyPort)]);
      expect(busy.code).toBe(1);
      expectOneLineError(busy.stderr, new RegExp(`Port ${busyPort} .*already in use`));
    } finally {
      blocker.close();
    }
  });

  it("refuses `convo token` without a secret or a user id", { timeout: SLOW }, async () => {
    const [noSecret, notUuid] = await Promise.all([
      runConvo(["token", randomUUID()]),
      runConvo(["token", "alice"], cleanEnv({ CONVO_JWT_SECRET: SECRET })),
    ]);
    expect(noSecret.code).toBe(1);
    expectOneLineError(noSecret.stderr, /CONVO_JWT_SECRET/);
    expect(notUuid.code).toBe(1);
    expectOneLineError(notUuid.stderr, /UUID/);
  });
});

describe.each(engines)("convo CLI on %s", (engine) => {
  it("creates, lists and revokes admin keys; a created key authenticates on the server; sweep prints its counts", {
    timeout: SLOW,
  }, async () => {
    const db = await freshDatabase(engine);
    // Three conversations whose last activity was two hours ago, made with the library.
    const past = new Date(Date.now() - 2 * HOUR);
    const seed = await openConvo({ ...db.open, clock: () => past });
    const { user } = await seed.users.create({ externalId: "sweep" });
    for (let i = 0; i < 3; i++) {
      const conversation = await seed.conversations.create(user.id);
      await seed.messages.append(user.id, conversation.id, { role: "user", content: `idle ${i}` });
    }
    await seed.close();

    const created = await runConvo(["keys", "create", "ci bot", ...db.args]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^convo_sk_[\w-]+$/);
    const id = /Created key ([0-9a-f-]{36}) \(ci bot\)/.exec(created.stderr)?.[1] as string;
    expect(id, created.stderr).toBeDefined();

    const node = await serveConvo([...db.args, "--port", "0", "--host", "127.0.0.1", "--sweep-interval", "0"]);
    expect(node.stdout()).not.toMatch(/auth: +OPEN/);
    expect((await request(node.url, "GET", `/v1/users/${user.id}`, { token: key })).status).toBe(200);
    expect((await request(node.url, "GET", `/v1/users/${user.id}`)).status).toBe(401);
    expect((await request(node.url, "GET", `/v1/users/${user.id}`, { token: `${key}x` })).status).toBe(401);
    expect(await stop(node)).toBe(0);

    const swept = await runConvo(["sweep", ...db.args]);
    expect(swept.code, swept.stderr).toBe(0);
    expect(swept.stdout).toMatch(/^closedInactive\s+3$/m);
    expect(swept.stdout).toMatch(/^deletedExpired\s+0$/m);
    // The three conversations it closed, indexed for search in the same sweep.
    expect(swept.stdout).toMatch(/^searchIndexedMessages\s+3$/m);
    expect(swept.stdout).toMatch(/^searchIndexedConversations\s+3$/m);

    const revoked = await runConvo(["keys", "revoke", id, ...db.args]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${id}`);
    const after = await runConvo(["keys", "list", ...db.args]);
    expect(after.code, after.stderr).toBe(0);
    const [line] = after.stdout.trim().split("\n");
    expect(line).toMatch(new RegExp(`^${id} +${key.slice(0, 13)}… +ci bot +created \\S+ +REVOKED \\S+$`));
    expect(after.stdout).not.toContain(key);
  });
});

describe.runIf(DATABASE_URL)("convo serve nodes on one PostgreSQL", () => {
  const sweepLockKey = (schema: string) => `convo:sweeps:${schema}`;

  it("share data, and only the node holding the lock sweeps", { timeout: SLOW }, async () => {
    const schema = testSchemaName();
    schemas.push(schema);
    const args = ["--database-url", DATABASE_URL as string, "--schema", schema, "--port", "0", "--sweep-interval", "200"];

    // Five conversations idle for two hours, one fresh.
    const past = new Date(Date.now() - 2 * HOUR);
    const seed = await openConvo({ databaseUrl: DATABASE_URL, schema, clock: () => past });
    const { user } = await seed.users.create({ externalId: "nodes" });
    const idle: string[] = [];
    for (let i = 0; i < 5; i++) idle.push((await seed.conversations.create(user.id)).id);
    await seed.close();

    // Hold the sweep lock, as a third node would.
    const holder = new pg.Client({ connectionString: DATABASE_URL });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [sweepLockKey(schema)]);
      const [a, b] = await Promise.all([serveConvo(args), serveConvo(args)]);

      // Data written through A is read through B, and the other way round.
      const created = await request(a.url, "POST", `/v1/users/${user.id}/conversations`, { body: { title: "на узле A" } });
      expect(created.status).toBe(201);
      const readOnB = await request(b.url, "GET", `/v1/conversations/${created.json.id}`);
      expect(readOnB.status).toBe(200);
      expect(readOnB.json.title).toBe("на узле A");
      const appended = await request(b.url, "POST", `/v1/conversations/${created.json.id}/messages`, {
        body: { role: "user", content: "с узла B" },
      });
      expect(appended.status).toBe(201);
      const readOnA = await request(a.url, "GET", `/v1/conversations/${created.json.id}/messages`);
      expect(readOnA.json.messages.map((m: { content: string }) => m.content)).toEqual(["с узла B"]);

      // While another session holds the lock, both nodes skip their sweeps.
      const metrics = async (url: string) => (await request(url, "GET", "/metrics")).text;
      const skipped = async (url: string) => counter(await metrics(url), "convo_sweep_runs_total", { outcome: "skipped" });
      expect(await eventually(async () => (await skipped(a.url)) >= 2 && (await skipped(b.url)) >= 2)).toBe(true);
      const open = async () => (await request(a.url, "GET", `/v1/users/${user.id}/conversations?status=active&limit=100`)).json;
      const stillOpen = await request(a.url, "GET", `/v1/users/${user.id}/conversations?limit=100`);
      expect(stillOpen.json.sessions.filter((s: { closedAt: string | null }) => s.closedAt === null)).toHaveLength(6);
      for (const url of [a.url, b.url]) expect(counter(await metrics(url), "convo_sweep_runs_total", { outcome: "ok" })).toBe(0);

      // Released, the nodes close each idle conversation exactly once between them.
      await holder.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [sweepLockKey(schema)]);
      const rows = async () =>
        counter(await metrics(a.url), "convo_sweep_rows_total", { sweep: "closedInactive" }) +
        counter(await metrics(b.url), "convo_sweep_rows_total", { sweep: "closedInactive" });
      expect(await eventually(async () => (await rows()) >= 5)).toBe(true);
      // Let both nodes run a few more sweeps: nothing more gets closed.
      const runs = async (url: string) => counter(await metrics(url), "convo_sweep_runs_total");
      const [runsA, runsB] = [await runs(a.url), await runs(b.url)];
      expect(await eventually(async () => (await runs(a.url)) >= runsA + 3 && (await runs(b.url)) >= runsB + 3)).toBe(true);
      expect(await rows()).toBe(5);
      const closed = await request(b.url, "GET", `/v1/users/${user.id}/conversations?status=closed&limit=100`);
      expect(closed.json.sessions.map((s: { id: string }) => s.id).sort()).toEqual([...idle].sort());
      expect(closed.json.sessions.every((s: { closeReason: string }) => s.closeReason === "inactivity")).toBe(true);
      expect((await open()).sessions.map((s: { id: string }) => s.id)).toEqual([created.json.id]);
      for (const url of [a.url, b.url])
        expect(counter(await metrics(url), "convo_sweep_runs_total", { outcome: "error" })).toBe(0);

      expect(await stop(a)).toBe(0);
      expect(await stop(b)).toBe(0);
    } finally {
      await holder.end();
    }
  });

  it("finishes an in-flight request on SIGTERM, then exits 0", { timeout: SLOW }, async () => {
    const schema = testSchemaName();
    schemas.push(schema);
    const args = ["--database-url", DATABASE_URL as string, "--schema", schema, "--port", "0", "--sweep-interval", "0"];
    // With request logging on, the node logs each request as it starts handling it.
    const node = await serveConvo(args, cleanEnv({ CONVO_LOG_LEVEL: "info", CONVO_LOG_REQUESTS: "true" }));
    const user = (await request(node.url, "POST", "/v1/users", { body: {} })).json;

    // Start a request and send only half of its body.
    const body = Buffer.from(JSON.stringify({ role: "user", content: "отправлено во время остановки" }));
    const { port } = new URL(node.url);
    let answered: (value: { status: number; text: string }) => void = () => {};
    const response = new Promise<{ status: number; text: string }>((resolve) => {
      answered = resolve;
    });
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: `/v1/users/${user.id}/messages`,
        headers: { "content-type": "application/json", "content-length": body.length },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => answered({ status: res.statusCode ?? 0, text }));
      },
    );
    req.write(body.subarray(0, 10));
    const path = `/v1/users/${user.id}/messages`;
    expect(await eventually(async () => node.stdout().includes(`"url":"${path}"`))).toBe(true);

    node.child.kill("SIGTERM");
    // Wait until the node stops accepting connections, then finish the request.
    const refused = async () =>
      request(node.url, "GET", "/healthz").then(
        () => false,
        () => true,
      );
    expect(await eventually(refused)).toBe(true);
    req.end(body.subarray(10));
    const res = await response;
    expect(res.status, res.text).toBe(201);
    expect(JSON.parse(res.text).content).toBe("отправлено во время остановки");
    expect(await node.exited).toBe(0);

    // It was committed.
    const check = await serveConvo(args);
    const list = await request(check.url, "GET", `/v1/users/${user.id}/conversations`);
    expect(list.json.sessions[0].messageCount).toBe(1);
    expect(await stop(check)).toBe(0);
  });
});

/**
 * Faults: PostgreSQL dropping connections under a running server (defects 1–3), and a
 * shutdown that must end within its deadline whatever clients hold open (defect 13).
 * The connections terminated are only this test's own: found by the lock they wait
 * on, or by the application_name the test gave its server.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConvo } from "@convo/core";
import pg from "pg";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, serveConvo } from "./support/cli.js";
import { openApi, openSse, until, userAndConversation, within } from "./support/runs-http.js";
import { request, startTestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

const postgresUrl = process.env.TEST_DATABASE_URL;

async function counter(url: string, name: string, labels: string): Promise<number> {
  const text = (await request(url, "GET", "/metrics")).text;
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe.skipIf(!postgresUrl)("PostgreSQL dropping connections under a running server", () => {
  let admin: pg.Client | undefined;
  afterEach(async () => {
    await admin?.end().catch(() => {});
    admin = undefined;
  });

  it("defects 1 and 2: a request whose connection is terminated mid-transaction gets 503; the process lives on", async () => {
    const t = await startTestServer("postgres");
    const user = await t.createUser({ externalId: "locked" });
    admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const schema = t.convo.store.engine.schema;
    // Hold the user's row: append-to-current locks it inside its transaction and waits.
    await admin.query("BEGIN");
    await admin.query(`SELECT 1 FROM "${schema}".users WHERE id = $1 FOR UPDATE`, [user.id]);
    const { rows } = await admin.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const holder = rows[0]!.pid;
    const waiting = t.api("POST", `/v1/users/${user.id}/messages`, { body: { role: "user", content: "hi" } });
    const victim = await until("the request to wait on the lock", async () => {
      const found = await admin!.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        [holder],
      );
      return found.rows[0]?.pid;
    });
    await admin.query("SELECT pg_terminate_backend($1)", [victim]);
    const res = await waiting;
    expect(res.status, res.text).toBe(503);
    expect(res.json.error.code).toBe("DATABASE_UNAVAILABLE");
    await admin.query("ROLLBACK");
    // The server goes on: the pool replaced the dead connection.
    const next = await t.api("POST", `/v1/users/${user.id}/messages`, { body: { role: "user", content: "again" } });
    expect(next.status, next.text).toBe(201);
    expect(next.json.seq).toBe(1);
    expect(await counter(t.url, "convo_background_errors_total", 'source="pool"')).toBeGreaterThanOrEqual(1);
  });

  it("defect 3: terminated pool and LISTEN connections are counted by source, and the server recovers", async () => {
    const appName = `convo_fault_${randomBytes(4).toString("hex")}`;
    const t = await startTestServer("postgres", {
      convoOptions: { databaseUrl: `${postgresUrl}?application_name=${appName}`, poolSize: 4 },
    });
    const { conversationId } = await userAndConversation(t.api);
    // A conversation follower makes the node LISTEN.
    const follower = await openSse(t.url, `/v1/conversations/${conversationId}/stream`, { token: t.adminKey });
    admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const { rows } = await admin.query<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [appName],
    );
    expect(rows[0]!.n).toBeGreaterThanOrEqual(2);
    await until("both failures to be counted", async () =>
      (await counter(t.url, "convo_background_errors_total", 'source="pool"')) >= 1 &&
      (await counter(t.url, "convo_background_errors_total", 'source="listen"')) >= 1
        ? true
        : undefined,
    );
    await until("the server to answer again", async () => {
      const res = await t.api("POST", `/v1/conversations/${conversationId}/messages`, {
        body: { role: "user", content: "after" },
      });
      expect(res.status, res.text).not.toBe(500);
      return res.status === 201 ? true : undefined;
    });
    follower.close();
  });
});

describe("shutdown", () => {
  it("defect 13: SIGTERM ends streams with a retry hint, stops runs as interrupted, and exits at the deadline whatever is open", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "convo-shutdown-"));
    try {
      const node = await serveConvo(
        ["--port", "0", "--data-dir", dataDir],
        cleanEnv({
          CONVO_SHUTDOWN_TIMEOUT_MS: "1500",
          CONVO_REQUEST_TIMEOUT_MS: "0",
          CONVO_OFFLINE_CHUNK_DELAY_MS: "1000",
          CONVO_SWEEP_INTERVAL_MS: "0",
        }),
      );
      const api = openApi(node.url);
      const { conversationId } = await userAndConversation(api);
      const { json: run } = await api("POST", `/v1/conversations/${conversationId}/runs`, {
        body: { content: "a long question that makes a long answer, word by word, slowly" },
      });
      expect(run.runId).toEqual(expect.any(String));
      const stream = await openSse(node.url, `/v1/runs/${run.runId}/stream`);
      expect((await stream.next())?.id).toBe("1");
      // An idle keep-alive connection…
      const agent = new Agent({ keepAlive: true });
      await new Promise<void>((resolve, reject) => {
        httpRequest(`${node.url}/healthz`, { agent }, (res) => {
          res.resume().on("end", resolve);
        })
          .on("error", reject)
          .end();
      });
      // …and a request that never finishes sending its body.
      const { hostname, port } = new URL(node.url);
      const stuck = connect(Number(port), hostname, () => {
        stuck.write(`POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ext`);
      });
      stuck.on("error", () => {});
      await until("the stuck request to reach the server", async () => stuck.readyState === "open" || undefined);

      node.child.kill("SIGTERM");
      const code = await within("the node to exit", node.exited);
      expect(code).toBe(1); // the deadline was reached: the stuck request held it
      expect(node.stdout()).toMatch(/shutdown deadline \(1500 ms\) reached/);
      expect(node.stdout()).toContain("POST /v1/users");
      await stream.rest().catch(() => []);
      expect(stream.text()).toMatch(/\nretry: \d+\n\n$/);
      agent.destroy();
      stuck.destroy();

      // The run was ended here, as interrupted, not left running for a lease to expire.
      const convo = await openConvo({ dataDir });
      try {
        const owner = await convo.runs.ownerOf(run.runId);
        const ended = await convo.runs.get(owner as string, run.runId);
        expect(ended.status).toBe("error");
        expect(ended.error).toMatch(/interrupted: node shutting down/);
      } finally {
        await convo.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Regression tests of the hardening issue: each names its defect. A real server on an
 * ephemeral port per test, on every engine; raw sockets where fetch would normalise
 * what an attacker sends.
 */
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { heldModel, openSseOrAnswer, pollToEnd, until, userAndConversation } from "./support/runs-http.js";
import { engines, request, startTestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

const offline = { runs: { models: { env: {}, offline: { chunkDelayMs: 0 } } } };

/** Sends `text` as it is over a new TCP connection and reads until the server closes it. */
function rawExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Not end(): a half-closed socket makes Node abort the request in flight.
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

/**
 * Sends `head` and then `drip` one character every 100 ms, and answers what the
 * server said and whether it hung up before the drip was all sent.
 */
function trickle(url: string, head: string, drip: string): Promise<{ answer: string; cutShort: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = connect(Number(port), hostname, () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < drip.length && !socket.destroyed) socket.write(drip[sent++] as string);
      }, 100);
    });
    let answer = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ answer, cutShort: sent < drip.length });
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") return;
      reject(error);
    });
  });
}

/** The value of a Prometheus counter line (0 when absent). */
async function counter(url: string, name: string, labels: string): Promise<number> {
  const text = (await request(url, "GET", "/metrics")).text;
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe.each(engines)("hardening on %s", (engine) => {
  it("defect 3: a background failure is logged and counted in /metrics by source", async () => {
    const t = await startTestServer(engine);
    expect(await counter(t.url, "convo_background_errors_total", 'source="after-commit"')).toBe(0);
    await t.convo.transaction(async (uow) => {
      uow.afterCommit(() => {
        throw new Error("an after-commit hook failed");
      });
    });
    await until("the failure to be counted", async () =>
      (await counter(t.url, "convo_background_errors_total", 'source="after-commit"')) === 1 ? true : undefined,
    );
  });

  it("defect 4: authentication is decided by the matched route, before the body is read", async () => {
    const t = await startTestServer(engine);
    const user = await t.createUser({ externalId: "u" });
    const { port } = new URL(t.url);
    // `%76` is `v`; an absolute request line names the same route.
    for (const target of [`/%761/users/${user.id}`, `http://127.0.0.1:${port}/v1/users/${user.id}`]) {
      const answer = await rawExchange(t.url, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer, target).toMatch(/^HTTP\/1\.1 401 /);
      expect(answer).toContain('"UNAUTHORIZED"');
    }
    // The body is not parsed before authentication: malformed JSON still gets 401.
    const bad = await rawExchange(
      t.url,
      `POST /%761/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{oops`,
    );
    expect(bad).toMatch(/^HTTP\/1\.1 401 /);
    // With credentials the encoded path reaches the handler as the caller.
    const ok = await rawExchange(
      t.url,
      `GET /%761/users/${user.id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.adminKey}\r\nConnection: close\r\n\r\n`,
    );
    expect(ok).toMatch(/^HTTP\/1\.1 200 /);
    expect(ok).toContain(user.id);
    expect(await t.dump().then((d) => d.users?.length)).toBe(1);
  });

  it("defect 5: a forged or edited list cursor is 400 on conversation and run lists; real cursors page", async () => {
    const t = await startTestServer(engine, { convoOptions: offline });
    const { userId, conversationId } = await userAndConversation(t.api);
    await t.api("POST", `/v1/users/${userId}/conversations`, { body: { closeCurrent: true } });
    // The list keys the cursors of the previous design used (a hash of the list's scope).
    const key = (scope: string) => createHash("sha256").update(scope).digest("base64url").slice(0, 12);
    const forge = (scope: string, t: string) =>
      Buffer.from(JSON.stringify({ l: key(scope), t, i: conversationId })).toString("base64url");
    const lists = [
      { path: `/v1/users/${userId}/conversations`, scope: `conversations:${userId}::` },
      { path: `/v1/conversations/${conversationId}/runs`, scope: `runs:${userId}:${conversationId}` },
    ];
    for (const { path, scope } of lists) {
      for (const time of ["1", "+275760-09-13T00:00:00.000Z", "2026-02-30T00:00:00.000Z"]) {
        const res = await t.api("GET", `${path}?cursor=${encodeURIComponent(forge(scope, time))}`);
        expect(res.status, `${path} ${time}: ${res.text}`).toBe(400);
        expect(res.json.error.code).toBe("INVALID_CURSOR");
      }
    }
    const first = await t.api("GET", `/v1/users/${userId}/conversations?limit=1`);
    const cursor: string = first.json.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const [payload, signature] = cursor.split(".") as [string, string];
    const edited = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    edited.t = "1970-01-01T00:00:00.000Z";
    const tampered = `${Buffer.from(JSON.stringify(edited)).toString("base64url")}.${signature}`;
    const refused = await t.api("GET", `/v1/users/${userId}/conversations?limit=1&cursor=${encodeURIComponent(tampered)}`);
    expect(refused.status).toBe(400);
    const second = await t.api("GET", `/v1/users/${userId}/conversations?limit=1&cursor=${encodeURIComponent(cursor)}`);
    expect(second.status).toBe(200);
    expect(second.json.sessions).toHaveLength(1);
    expect(second.json.sessions[0].id).not.toBe(first.json.sessions[0].id);
  });

  it("defect 6: open streams and long-polls are capped per user and per node (429 with Retry-After)", async () => {
    const t = await startTestServer(engine, { maxStreamsPerUser: 2, maxStreamsPerNode: 3 });
    const a = await userAndConversation(t.api);
    const b = await userAndConversation(t.api);
    const tokenA = await t.token(a.userId);
    const streamOf = (c: { conversationId: string }, token: string) =>
      openSseOrAnswer(t.url, `/v1/conversations/${c.conversationId}/stream`, { token });
    const open1 = await streamOf(a, tokenA);
    const open2 = await streamOf(a, tokenA);
    expect("stream" in open1 && "stream" in open2).toBe(true);
    const third = await streamOf(a, tokenA);
    expect("answer" in third && third.answer.status).toBe(429);
    if ("answer" in third) {
      expect(third.answer.json.error.code).toBe("RATE_LIMITED");
      expect(third.answer.headers.get("retry-after")).toMatch(/^\d+$/);
    }
    // A long-poll holds a connection too.
    const { json: run } = await t.api("POST", `/v1/conversations/${a.conversationId}/runs`, { body: { content: "hi" } });
    const poll = await request(t.url, "GET", `/v1/runs/${run.runId}/events?after=1000&wait=5`, { token: tokenA });
    expect(poll.status).toBe(429);
    // Another user has room until the node is full.
    const tokenB = await t.token(b.userId);
    const open3 = await streamOf(b, tokenB);
    expect("stream" in open3).toBe(true);
    const fourth = await streamOf(b, tokenB);
    expect("answer" in fourth && fourth.answer.status).toBe(429);
    // Closing a stream gives its slot back.
    if ("stream" in open1) open1.stream.close();
    await until("the closed stream's slot to be free", async () => {
      const again = await streamOf(a, tokenA);
      if ("stream" in again) {
        again.stream.close();
        return true;
      }
      return undefined;
    });
    for (const s of [open2, open3]) if ("stream" in s) s.stream.close();
  });

  it("defect 7: a trickled header or body is cut; a long-poll outlives the request timeout", async () => {
    const never = new Promise<void>(() => {});
    const t = await startTestServer(engine, {
      requestTimeoutMs: 1000,
      headersTimeoutMs: 500,
      convoOptions: { runs: { models: { env: {}, models: { held: heldModel(never, []) } } } },
    });
    const headers = await trickle(t.url, "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n".repeat(20));
    expect(headers.cutShort).toBe(true);
    const body = '{"externalId":"trickled-in-slowly-by-a-client"}';
    const slow = await trickle(
      t.url,
      `POST /v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.adminKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      body,
    );
    expect(slow.cutShort).toBe(true);
    expect(slow.answer).not.toMatch(/^HTTP\/1\.1 20/);
    expect((await t.dump()).users).toEqual([]);
    // A long-poll's request arrived whole: it may wait longer than the request timeout.
    const { conversationId } = await userAndConversation(t.api);
    const { json: run } = await t.api("POST", `/v1/conversations/${conversationId}/runs`, {
      body: { content: "hi", model: "held" },
    });
    const poll = await t.api("GET", `/v1/runs/${run.runId}/events?after=1&wait=2`);
    expect(poll.status).toBe(200);
    expect(poll.json.events).toEqual([]);
    await t.api("POST", `/v1/runs/${run.runId}/cancel`);
  });

  it("defect 8: failed authentications are limited per client address", async () => {
    const t = await startTestServer(engine, { authFailureLimit: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await t.api("GET", "/v1/users/00000000-0000-4000-8000-000000000000", { token: `forged.${i}.token` });
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
  });

  it("defect 9: a finished run's stream answers 204 when nothing is left after Last-Event-ID", async () => {
    const t = await startTestServer(engine, { convoOptions: offline });
    const { conversationId } = await userAndConversation(t.api);
    const { json: run } = await t.api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "hi" } });
    const events = await pollToEnd(t.api, run.runId);
    const last = events[events.length - 1].seq as number;
    const done = await openSseOrAnswer(t.url, `/v1/runs/${run.runId}/stream`, {
      token: t.adminKey,
      headers: { "last-event-id": String(last) },
    });
    expect("answer" in done && done.answer.status).toBe(204);
    // Something left: the rest is streamed, then the stream ends.
    const rest = await openSseOrAnswer(t.url, `/v1/runs/${run.runId}/stream`, {
      token: t.adminKey,
      headers: { "last-event-id": String(last - 1) },
    });
    expect("stream" in rest).toBe(true);
    if ("stream" in rest) expect((await rest.stream.rest()).map((e) => Number(e.id))).toEqual([last]);
  });

  it("defect 10: loose query integers and a malformed Last-Event-ID are 400 on every stream", async () => {
    const t = await startTestServer(engine, { convoOptions: offline });
    const { userId, conversationId } = await userAndConversation(t.api);
    const { json: run } = await t.api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "hi" } });
    for (const value of ["0x10", "1e1", "", " 1", "1.0", "-1", "+1"]) {
      const q = encodeURIComponent(value);
      for (const path of [
        `/v1/runs/${run.runId}/events?after=${q}`,
        `/v1/conversations/${conversationId}/messages?afterSeq=${q}`,
        `/v1/users/${userId}/conversations?limit=${q}`,
      ]) {
        const res = await t.api("GET", path);
        expect(res.status, `${path}: ${res.text}`).toBe(400);
      }
    }
    for (const path of [`/v1/runs/${run.runId}/stream`, `/v1/conversations/${conversationId}/stream`]) {
      const res = await openSseOrAnswer(t.url, path, { token: t.adminKey, headers: { "last-event-id": "abc" } });
      expect("answer" in res && res.answer.status, path).toBe(400);
    }
    await pollToEnd(t.api, run.runId);
  });

  it("defect 11: an end-user token must carry exp, no further away than the configured lifetime", async () => {
    const t = await startTestServer(engine, { tokenMaxLifetimeMs: 24 * 3600 * 1000 });
    const user = await t.createUser({ externalId: "u" });
    const secret = new TextEncoder().encode(t.jwtSecret);
    const sign = (exp?: string) => {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(user.id).setIssuedAt();
      return (exp ? jwt.setExpirationTime(exp) : jwt).sign(secret);
    };
    const forever = await t.api("GET", `/v1/users/${user.id}`, { token: await sign() });
    expect(forever.status).toBe(401);
    expect(forever.json.error.message).toMatch(/exp/);
    expect((await t.api("GET", `/v1/users/${user.id}`, { token: await sign("30d") })).status).toBe(401);
    expect((await t.api("GET", `/v1/users/${user.id}`, { token: await sign("1h") })).status).toBe(200);
  });

  it("defect 12: PATCH state accepts application/merge-patch+json", async () => {
    const t = await startTestServer(engine);
    const { conversationId } = await userAndConversation(t.api);
    const res = await t.api("PATCH", `/v1/conversations/${conversationId}/state`, {
      rawBody: JSON.stringify({ step: 2, nested: { a: 1 } }),
      headers: { "content-type": "application/merge-patch+json", "if-match": '"0"' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.state).toEqual({ step: 2, nested: { a: 1 } });
    const removed = await t.api("PATCH", `/v1/conversations/${conversationId}/state`, {
      rawBody: JSON.stringify({ nested: null }),
      headers: { "content-type": "application/merge-patch+json; charset=utf-8", "if-match": '"1"' },
    });
    expect(removed.json.state).toEqual({ step: 2 });
  });
});

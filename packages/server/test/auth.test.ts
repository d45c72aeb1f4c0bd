/** Credentials and ownership: another user's data is 404, bad credentials are 401. */
import { ApiKeysService } from "@convo/core/internal";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../src/server.js";
import { engines, startTestServer, type TestServer, warmUp } from "./support/server.js";

/** Users A and B; B has a conversation with two messages and a state at version 1. */
async function twoUsers(t: TestServer) {
  const a = await t.createUser({ externalId: "A" });
  const b = await t.createUser({ externalId: "B" });
  const { json: conversation } = await t.api("POST", `/v1/users/${b.id}/conversations`, { body: { title: "B's" } });
  for (const content of ["секрет B", "ещё"]) {
    await t.api("POST", `/v1/conversations/${conversation.id}/messages`, { body: { role: "user", content } });
  }
  await t.api("PUT", `/v1/conversations/${conversation.id}/state`, { body: { pin: 1234 }, headers: { "if-match": '"0"' } });
  return { a, b, conversationId: conversation.id as string, tokenA: await t.token(a.id), tokenB: await t.token(b.id) };
}

beforeAll(warmUp);

describe.each(engines)("auth and ownership on %s", (engine) => {
  it("answers 404 to user A's token for everything of user B's, and changes nothing", async () => {
    const t = await startTestServer(engine);
    const { a, b, conversationId: id, tokenA, tokenB } = await twoUsers(t);
    const before = await t.dump();

    const message = { role: "user", content: "injected by A" };
    const attempts: [string, string, Parameters<typeof t.api>[2]?][] = [
      // read
      ["GET", `/v1/conversations/${id}`],
      ["GET", `/v1/conversations/${id}/messages`],
      ["GET", `/v1/conversations/${id}/state`],
      // write
      ["POST", `/v1/conversations/${id}/messages`, { body: message }],
      ["PATCH", `/v1/conversations/${id}`, { body: { title: "pwned" } }],
      ["PUT", `/v1/conversations/${id}/state`, { body: { pin: 0 }, headers: { "if-match": '"1"' } }],
      ["PATCH", `/v1/conversations/${id}/state`, { body: { pin: 0 }, headers: { "if-match": '"1"' } }],
      ["POST", `/v1/conversations/${id}/close`],
      // delete
      ["DELETE", `/v1/conversations/${id}`],
      // B's user paths
      ["GET", `/v1/users/${b.id}`],
      ["PATCH", `/v1/users/${b.id}`, { body: { displayName: "pwned" } }],
      ["GET", `/v1/users/${b.id}/conversations`],
      ["POST", `/v1/users/${b.id}/conversations`, { body: { closeCurrent: true } }],
      ["POST", `/v1/users/${b.id}/messages`, { body: message }],
      ["POST", `/v1/users/${b.id}/messages`, { body: { ...message, externalId: "k" } }],
      ["POST", `/v1/users/${b.id}/context`, { body: {} }],
      // only a backend (admin key) creates users
      ["POST", "/v1/users", { body: { externalId: "C" } }],
    ];
    for (const [method, path, options] of attempts) {
      const res = await t.api(method, path, { ...options, token: tokenA });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
      expect(res.text).not.toContain("секрет");
    }
    expect(await t.dump()).toEqual(before);

    // B still sees all of it, and A its own things.
    const own = await t.api("GET", `/v1/conversations/${id}`, { token: tokenB });
    expect(own.status).toBe(200);
    expect(own.json.messages.map((m: { content: string }) => m.content)).toEqual(["секрет B", "ещё"]);
    expect(own.json.title).toBe("B's");
    expect((await t.api("GET", `/v1/conversations/${id}/state`, { token: tokenB })).json).toMatchObject({
      version: 1,
      state: { pin: 1234 },
    });
    expect((await t.api("GET", `/v1/users/${a.id}`, { token: tokenA })).status).toBe(200);
    expect((await t.api("GET", `/v1/users/${a.id.toUpperCase()}`, { token: tokenA })).status).toBe(200);
    const mine = await t.api("POST", `/v1/users/${a.id}/messages`, { body: message, token: tokenA });
    expect(mine.status).toBe(201);
    expect((await t.api("GET", `/v1/conversations/${mine.json.conversationId}`, { token: tokenA })).status).toBe(200);
    expect((await t.api("GET", `/v1/conversations/${mine.json.conversationId}`, { token: tokenB })).status).toBe(404);
  });

  it("answers 401 without a credential, with a bad, forged, expired or unknown one", async () => {
    const t = await startTestServer(engine);
    const { b, conversationId: id } = await twoUsers(t);
    const secret = new TextEncoder().encode(t.jwtSecret);
    const sign = (claims: { sub?: string; exp?: number }, key = secret) => {
      let jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
      if (claims.sub) jwt = jwt.setSubject(claims.sub);
      if (claims.exp) jwt = jwt.setExpirationTime(claims.exp);
      return jwt.sign(key);
    };
    const now = Math.floor(Date.now() / 1000);
    const before = await t.dump();
    const cases: [string, Record<string, string>][] = [
      ["no Authorization", {}],
      ["not Bearer", { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` }],
      ["empty Bearer", { authorization: "Bearer " }],
      ["garbage", { authorization: "Bearer abc" }],
      ["unknown key", { authorization: `Bearer convo_sk_${"x".repeat(32)}` }],
      [
        "forged token",
        { authorization: `Bearer ${await sign({ sub: b.id }, new TextEncoder().encode("another-secret-another-secret"))}` },
      ],
      ["expired token", { authorization: `Bearer ${await sign({ sub: b.id, exp: now - 3600 })}` }],
      ["subject not a user id", { authorization: `Bearer ${await sign({ sub: "admin", exp: now + 3600 })}` }],
      ["no subject", { authorization: `Bearer ${await sign({ exp: now + 3600 })}` }],
      ["truncated token", { authorization: `Bearer ${(await t.token(b.id)).slice(0, -4)}` }],
    ];
    for (const [name, headers] of cases) {
      for (const [method, path, body] of [
        ["GET", `/v1/conversations/${id}`, undefined],
        ["POST", `/v1/users/${b.id}/messages`, { role: "user", content: "x" }],
        ["DELETE", `/v1/conversations/${id}`, undefined],
      ] as const) {
        const res = await t.api(method, path, { token: null, headers, body });
        expect(res.status, `${name}: ${method} ${path}`).toBe(401);
        expect(res.json.error.code).toBe("UNAUTHORIZED");
        expect(res.json.error.message).toBeTruthy();
      }
    }
    expect(await t.dump()).toEqual(before);
    // Operations endpoints need no credential.
    expect((await t.api("GET", "/healthz", { token: null })).status).toBe(200);
  });

  it("refuses a revoked admin key", async () => {
    const t = await startTestServer(engine);
    const keys = new ApiKeysService(t.convo.store);
    // Created and revoked before the server's first request loads its key list.
    const live = await keys.create("live");
    const revoked = await keys.create("revoked");
    await keys.revoke(revoked.apiKey.id);
    const user = await t.api("POST", "/v1/users", { body: {}, token: live.key });
    expect(user.status).toBe(201);
    const refused = await t.api("GET", `/v1/users/${user.json.id}`, { token: revoked.key });
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe("UNAUTHORIZED");
  });

  // The key cache does not depend on the engine: once is enough (it waits out the cache's refresh).
  it.runIf(engine === engines[0])("stops accepting a key revoked while the server runs", async () => {
    const t = await startTestServer(engine);
    const user = await t.createUser();
    const keys = new ApiKeysService(t.convo.store);
    const { key, apiKey } = await keys.create("short-lived");
    const status = async () => (await t.api("GET", `/v1/users/${user.id}`, { token: key })).status;
    // The server refreshes its key list every few seconds: wait for it, with no time assertion.
    const until = async (expected: number) => {
      for (let i = 0; i < 100 && (await status()) !== expected; i++) await new Promise((r) => setTimeout(r, 200));
      return status();
    };
    expect(await until(200)).toBe(200);
    await keys.revoke(apiKey.id);
    expect(await until(401)).toBe(401);
    // The other key still works.
    expect((await t.api("GET", `/v1/users/${user.id}`)).status).toBe(200);
  });

  it("lets an admin key act for anyone; X-Convo-User-Id must name the owner", async () => {
    const t = await startTestServer(engine);
    const { a, b, conversationId: id } = await twoUsers(t);
    expect((await t.api("GET", `/v1/conversations/${id}`)).status).toBe(200);
    expect((await t.api("GET", `/v1/conversations/${id}`, { headers: { "x-convo-user-id": b.id } })).status).toBe(200);
    const appended = await t.api("POST", `/v1/conversations/${id}/messages`, {
      body: { role: "assistant", content: "from the backend" },
      headers: { "x-convo-user-id": b.id.toUpperCase() },
    });
    expect(appended.status).toBe(201);
    expect((await t.api("GET", `/v1/users/${a.id}/conversations`)).status).toBe(200);

    const before = await t.dump();
    for (const [method, path, body] of [
      ["GET", `/v1/conversations/${id}`, undefined],
      ["GET", `/v1/conversations/${id}/state`, undefined],
      ["POST", `/v1/conversations/${id}/messages`, { role: "user", content: "x" }],
      ["DELETE", `/v1/conversations/${id}`, undefined],
    ] as const) {
      const wrong = await t.api(method, path, { body, headers: { "x-convo-user-id": a.id } });
      expect(wrong.status, `${method} ${path}`).toBe(404);
      expect(wrong.json.error.code).toBe("NOT_FOUND");
      const malformed = await t.api(method, path, { body, headers: { "x-convo-user-id": "not-a-uuid" } });
      expect(malformed.status, `${method} ${path}`).toBe(400);
      expect(malformed.json.error.details.field).toBe("x-convo-user-id");
    }
    expect(await t.dump()).toEqual(before);
  });

  it("runs open (every caller an admin) when no key and no token secret is configured", async () => {
    const t = await startTestServer(engine, { open: true });
    expect(t.server.open).toBe(true);
    const user = await t.api("POST", "/v1/users", { body: { externalId: "open" }, token: null });
    expect(user.status).toBe(201);
    expect((await t.api("GET", `/v1/users/${user.json.id}`, { token: null })).status).toBe(200);
    // No token secret: a JWT cannot be checked, so it is refused.
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(user.json.id)
      .sign(new TextEncoder().encode("x".repeat(32)));
    expect((await t.api("GET", `/v1/users/${user.json.id}`, { token: jwt })).status).toBe(401);
    // Open, it refuses to listen beyond loopback.
    const config = { dataDir: "unused", port: 0, bodyLimit: 1 << 20, rateLimitUser: 10, rateLimitAdmin: 10, corsOrigins: [] };
    await expect(
      startServer({ ...config, host: "0.0.0.0", sweepIntervalMs: 0, logLevel: "silent" }, { convo: t.convo }),
    ).rejects.toMatchObject({ code: "OPEN_ON_PUBLIC_HOST" });
  });
});

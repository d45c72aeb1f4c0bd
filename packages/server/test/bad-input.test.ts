/**
 * The bad-input matrix of DESIGN.md §4: each bad request gets its 4xx with a clear
 * error body, and the database is byte-for-byte unchanged afterwards. Legal text —
 * SQL, Cyrillic, emoji, combining marks — is stored exactly as sent.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { engines, type RequestOptions, rawQuery, startTestServer, type TestServer, warmUp } from "./support/server.js";

interface Case {
  name: string;
  method: string;
  path: string;
  options?: RequestOptions;
  status: number;
  code?: string;
  /** The field `error.details.field` must name. */
  field?: string;
}

/** A user with a conversation (one message, state at version 1) and a second user. */
async function fixture(t: TestServer) {
  const user = await t.createUser({ externalId: "u1" });
  const other = await t.createUser({ externalId: "u2" });
  const { json: conversation } = await t.api("POST", `/v1/users/${user.id}/conversations`, { body: { title: "Тест" } });
  await t.api("POST", `/v1/conversations/${conversation.id}/messages`, { body: { role: "user", content: "hello" } });
  await t.api("PUT", `/v1/conversations/${conversation.id}/state`, { body: { step: 1 }, headers: { "if-match": '"0"' } });
  return { user, other, id: conversation.id as string };
}

/** A JSON text with `raw` spliced in unescaped as the value of `content` (for \u0000 and lone surrogates). */
const rawMessage = (contentJson: string) => `{"role":"user","content":"${contentJson}"}`;

beforeAll(warmUp);

describe.each(engines)("bad input on %s", (engine) => {
  it("refuses each bad request with its status and a clear error, and changes nothing", async () => {
    const t = await startTestServer(engine);
    const { user, other, id } = await fixture(t);
    // Cursors of other lists: another user's, and the same user's with another filter.
    for (let i = 0; i < 3; i++) {
      await t.api("POST", `/v1/users/${other.id}/conversations`);
      await t.api("POST", `/v1/users/${user.id}/conversations`);
    }
    const otherCursor = (await t.api("GET", `/v1/users/${other.id}/conversations?limit=1`)).json.nextCursor;
    const activeCursor = (await t.api("GET", `/v1/users/${user.id}/conversations?limit=1&status=active`)).json.nextCursor;
    expect(otherCursor).toEqual(expect.any(String));
    expect(activeCursor).toEqual(expect.any(String));

    const messages = `/v1/conversations/${id}/messages`;
    const conversations = `/v1/users/${user.id}/conversations`;
    const state = `/v1/conversations/${id}/state`;
    const ifMatch = { "if-match": '"1"' };
    const cases: Case[] = [
      // NUL and lone surrogates cannot be stored: 422 naming the field.
      {
        name: "NUL in content",
        method: "POST",
        path: messages,
        options: { rawBody: rawMessage("a\\u0000b") },
        status: 422,
        code: "VALIDATION_FAILED",
        field: "content",
      },
      {
        name: "lone surrogate in content",
        method: "POST",
        path: messages,
        options: { rawBody: rawMessage("a\\ud800b") },
        status: 422,
        code: "VALIDATION_FAILED",
        field: "content",
      },
      {
        name: "lone low surrogate in content",
        method: "POST",
        path: messages,
        options: { rawBody: rawMessage("\\udc00") },
        status: 422,
        field: "content",
      },
      {
        name: "NUL in append-to-current",
        method: "POST",
        path: `/v1/users/${user.id}/messages`,
        options: { rawBody: rawMessage("\\u0000") },
        status: 422,
        field: "content",
      },
      {
        name: "NUL in parts",
        method: "POST",
        path: messages,
        options: { rawBody: '{"role":"user","content":"x","parts":[{"fileId":"a\\u0000"}]}' },
        status: 422,
      },
      {
        name: "NUL in title",
        method: "PATCH",
        path: `/v1/conversations/${id}`,
        options: { rawBody: '{"title":"a\\u0000b"}' },
        status: 422,
        field: "title",
      },
      {
        name: "NUL in a state value",
        method: "PUT",
        path: state,
        options: { rawBody: '{"x":"\\u0000"}', headers: ifMatch },
        status: 422,
      },
      {
        name: "NUL in a state key",
        method: "PATCH",
        path: state,
        options: { rawBody: '{"a\\u0000":1}', headers: ifMatch },
        status: 422,
      },
      {
        name: "lone surrogate in displayName",
        method: "PATCH",
        path: `/v1/users/${user.id}`,
        options: { rawBody: '{"displayName":"\\ud83d"}' },
        status: 422,
      },
      {
        name: "NUL in externalId",
        method: "POST",
        path: "/v1/users",
        options: { rawBody: '{"externalId":"x\\u0000"}' },
        status: 422,
      },
      {
        name: "invalid UTF-8 bytes",
        method: "POST",
        path: messages,
        options: {
          rawBody: Buffer.concat([Buffer.from('{"role":"user","content":"a'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]),
        },
        status: 400,
        code: "INVALID_JSON",
      },
      {
        name: "an overlong UTF-8 encoding",
        method: "POST",
        path: messages,
        options: {
          rawBody: Buffer.concat([Buffer.from('{"role":"user","content":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
        },
        status: 400,
        code: "INVALID_JSON",
      },
      {
        name: "an infinite number in the state",
        method: "PUT",
        path: state,
        options: { rawBody: '{"n":1e999}', headers: ifMatch },
        status: 422,
      },
      {
        name: "a state nested too deeply",
        method: "PUT",
        path: state,
        options: { rawBody: `${'{"a":'.repeat(100)}1${"}".repeat(100)}`, headers: ifMatch },
        status: 422,
      },
      // Too large.
      {
        name: "content over 256 Ki characters",
        method: "POST",
        path: messages,
        options: { body: { role: "user", content: "x".repeat(300_000) } },
        status: 422,
        field: "content",
      },
      {
        name: "2 MiB body",
        method: "POST",
        path: messages,
        options: { body: { role: "user", content: "я".repeat(1024 * 1024) } },
        status: 413,
        code: "PAYLOAD_TOO_LARGE",
      },
      // Titles: at most 30 characters.
      {
        name: "31-character title (rename)",
        method: "PATCH",
        path: `/v1/conversations/${id}`,
        options: { body: { title: "a".repeat(31) } },
        status: 422,
        code: "VALIDATION_FAILED",
        field: "title",
      },
      {
        name: "31 Cyrillic characters (create)",
        method: "POST",
        path: conversations,
        options: { body: { title: "ж".repeat(31) } },
        status: 422,
        field: "title",
      },
      {
        name: "31 emoji (rename)",
        method: "PATCH",
        path: `/v1/conversations/${id}`,
        options: { body: { title: "😀".repeat(31) } },
        status: 422,
        field: "title",
      },
      {
        name: "blank title",
        method: "PATCH",
        path: `/v1/conversations/${id}`,
        options: { body: { title: "   " } },
        status: 422,
        field: "title",
      },
      // Wrong types.
      {
        name: "content: 42",
        method: "POST",
        path: messages,
        options: { body: { role: "user", content: 42 } },
        status: 400,
        code: "INVALID_REQUEST",
        field: "body.content",
      },
      {
        name: "role not a role",
        method: "POST",
        path: messages,
        options: { body: { role: "admin", content: "x" } },
        status: 400,
        field: "body.role",
      },
      {
        name: "parts not an array",
        method: "POST",
        path: messages,
        options: { body: { role: "user", content: "x", parts: "p" } },
        status: 400,
        field: "body.parts",
      },
      { name: "limit=abc", method: "GET", path: `${messages}?limit=abc`, status: 400, field: "query.limit" },
      { name: "conversations limit=abc", method: "GET", path: `${conversations}?limit=abc`, status: 400, field: "query.limit" },
      { name: "afterSeq=1.5", method: "GET", path: `${messages}?afterSeq=1.5`, status: 400, field: "query.afterSeq" },
      {
        name: "closeCurrent: 'yes'",
        method: "POST",
        path: conversations,
        options: { body: { closeCurrent: "yes" } },
        status: 400,
        field: "body.closeCurrent",
      },
      {
        name: "historyLimit as text",
        method: "POST",
        path: `/v1/users/${user.id}/context`,
        options: { body: { historyLimit: "5" } },
        status: 400,
        field: "body.historyLimit",
      },
      { name: "state not an object", method: "PUT", path: state, options: { body: [1, 2], headers: ifMatch }, status: 400 },
      {
        name: "profile not an object",
        method: "PATCH",
        path: `/v1/users/${user.id}`,
        options: { body: { profile: "x" } },
        status: 400,
        field: "body.profile",
      },
      { name: "status=bogus", method: "GET", path: `${conversations}?status=bogus`, status: 400, field: "query.status" },
      // Unknown fields.
      {
        name: "unknown body field",
        method: "POST",
        path: messages,
        options: { body: { role: "user", content: "x", admin: true } },
        status: 400,
        code: "INVALID_REQUEST",
        field: "body.admin",
      },
      {
        name: "unknown user field",
        method: "POST",
        path: "/v1/users",
        options: { body: { id: user.id } },
        status: 400,
        field: "body.id",
      },
      { name: "unknown query parameter", method: "GET", path: `${messages}?sort=desc`, status: 400, field: "query.sort" },
      // Malformed ids.
      { name: "malformed conversation id", method: "GET", path: "/v1/conversations/not-a-uuid", status: 400, field: "params.id" },
      { name: "malformed id on delete", method: "DELETE", path: `/v1/conversations/${id}x`, status: 400, field: "params.id" },
      {
        name: "malformed user id",
        method: "POST",
        path: "/v1/users/123/messages",
        options: { body: { role: "user", content: "x" } },
        status: 400,
        field: "params.userId",
      },
      {
        name: "SQL as id",
        method: "GET",
        path: `/v1/conversations/${encodeURIComponent("1' OR '1'='1")}`,
        status: 400,
        field: "params.id",
      },
      {
        name: "malformed id in the context body",
        method: "POST",
        path: `/v1/users/${user.id}/context`,
        options: { body: { conversationId: "nope" } },
        status: 400,
        field: "body.conversationId",
      },
      {
        name: "afterSeq beyond 32 bits",
        method: "GET",
        path: `${messages}?afterSeq=99999999999`,
        status: 422,
        field: "query.afterSeq",
      },
      {
        name: "a close reason only the sweep may give",
        method: "POST",
        path: `/v1/conversations/${id}/close`,
        options: { body: { reason: "inactivity" } },
        status: 400,
        field: "body.reason",
      },
      {
        name: "an env with spaces",
        method: "POST",
        path: `/v1/users/${user.id}/messages`,
        options: { body: { role: "user", content: "x", env: "prod env" } },
        status: 422,
        field: "env",
      },
      {
        name: "a 201-character externalId",
        method: "POST",
        path: `/v1/users/${user.id}/messages`,
        options: { body: { role: "user", content: "x", externalId: "e".repeat(201) } },
        status: 422,
        field: "body.externalId",
      },
      {
        name: "an empty user message",
        method: "POST",
        path: messages,
        options: { body: { role: "user", content: "" } },
        status: 422,
        field: "content",
      },
      // Not JSON, or not an object.
      { name: "no body", method: "POST", path: messages, status: 400, field: "body" },
      { name: "a null body", method: "POST", path: messages, options: { rawBody: "null" }, status: 400, field: "body" },
      {
        name: "an array body",
        method: "POST",
        path: `/v1/users/${user.id}/messages`,
        options: { rawBody: "[]" },
        status: 400,
        field: "body",
      },
      {
        name: "an empty JSON body",
        method: "PATCH",
        path: `/v1/conversations/${id}`,
        options: { rawBody: "" },
        status: 400,
        code: "INVALID_JSON",
      },
      {
        name: "prototype poisoning",
        method: "POST",
        path: messages,
        options: { rawBody: '{"role":"user","content":"x","__proto__":{"admin":true}}' },
        status: 400,
        code: "INVALID_JSON",
      },
      { name: "a malformed URL escape", method: "GET", path: "/v1/conversations/%FF", status: 400, code: "INVALID_URL" },
      {
        name: "invalid JSON",
        method: "POST",
        path: messages,
        options: { rawBody: '{"role":"user",' },
        status: 400,
        code: "INVALID_JSON",
      },
      {
        name: "JSON with a trailing comma",
        method: "PATCH",
        path: `/v1/conversations/${id}`,
        options: { rawBody: '{"title":"x",}' },
        status: 400,
        code: "INVALID_JSON",
      },
      {
        name: "a text body",
        method: "POST",
        path: messages,
        options: { rawBody: "role=user", headers: { "content-type": "text/plain" } },
        status: 400,
      },
      {
        name: "a form body",
        method: "POST",
        path: messages,
        options: { rawBody: "role=user", headers: { "content-type": "application/x-www-form-urlencoded" } },
        status: 415,
      },
      // Cursors from elsewhere.
      {
        name: "another user's cursor",
        method: "GET",
        path: `${conversations}?cursor=${otherCursor}`,
        status: 400,
        code: "INVALID_CURSOR",
        field: "cursor",
      },
      {
        name: "a cursor of another filter",
        method: "GET",
        path: `${conversations}?status=closed&cursor=${activeCursor}`,
        status: 400,
        code: "INVALID_CURSOR",
        field: "cursor",
      },
      {
        name: "an invented cursor",
        method: "GET",
        path: `${conversations}?cursor=${Buffer.from('{"t":"x"}').toString("base64url")}`,
        status: 400,
        code: "INVALID_CURSOR",
      },
      {
        name: "a cursor with SQL",
        method: "GET",
        path: `${conversations}?cursor=${encodeURIComponent("'; DROP TABLE messages; --")}`,
        status: 400,
        code: "INVALID_CURSOR",
      },
      // Preconditions and headers.
      {
        name: "If-Match not a version",
        method: "PUT",
        path: state,
        options: { body: { a: 1 }, headers: { "if-match": "yesterday" } },
        status: 400,
        field: "if-match",
      },
      {
        name: "If-Match stale",
        method: "PUT",
        path: state,
        options: { body: { a: 1 }, headers: { "if-match": '"0"' } },
        status: 409,
      },
      {
        name: "malformed X-Convo-User-Id",
        method: "GET",
        path: `/v1/conversations/${id}`,
        options: { headers: { "x-convo-user-id": "'; --" } },
        status: 400,
        field: "x-convo-user-id",
      },
      // Routes and resources that do not exist.
      { name: "no such route", method: "GET", path: "/v1/nothing", status: 404, code: "ROUTE_NOT_FOUND" },
      {
        name: "no such conversation",
        method: "GET",
        path: "/v1/conversations/00000000-0000-4000-8000-000000000000",
        status: 404,
        code: "NOT_FOUND",
      },
      {
        name: "no such user",
        method: "POST",
        path: "/v1/users/00000000-0000-4000-8000-000000000000/messages",
        options: { body: { role: "user", content: "x" } },
        status: 404,
        code: "NOT_FOUND",
      },
    ];

    const before = await t.dump();
    for (const c of cases) {
      const res = await t.api(c.method, c.path, c.options);
      const label = `${c.name}: ${res.status} ${res.text.slice(0, 300)}`;
      expect(res.status, label).toBe(c.status);
      expect(res.json?.error?.code, label).toEqual(c.code ?? expect.any(String));
      expect(res.json.error.message, label).toEqual(expect.any(String));
      expect(res.json.error.message.length, label).toBeGreaterThan(0);
      if (c.field) expect(res.json.error.details?.field, label).toBe(c.field);
      if (c.status === 422 || res.json.error.code === "INVALID_REQUEST")
        expect(res.json.error.details?.field, label).toEqual(expect.any(String));
    }
    expect(await t.dump()).toEqual(before);

    // No request above, nor any other, was a 500.
    const metrics = (await t.api("GET", "/metrics")).text;
    expect(metrics).not.toMatch(/convo_http_request_duration_seconds_count\{[^}]*status="5\d\d"/);
  });

  it("answers a huge or out-of-range limit with the same 4xx on every list", async () => {
    const t = await startTestServer(engine);
    const { user, id } = await fixture(t);
    const before = await t.dump();
    for (const limit of ["1000000", "99999999999999999999999", "0", "-1", "1e400", "NaN", ""]) {
      const statuses = new Set<number>();
      for (const path of [
        `/v1/users/${user.id}/conversations?limit=${limit}`,
        `/v1/conversations/${id}/messages?limit=${limit}`,
      ]) {
        const res = await t.api("GET", path);
        expect(res.status, `${path}: ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${path}: ${res.text}`).toBeLessThan(500);
        expect(res.json.error.details.field).toBe("query.limit");
        statuses.add(res.status);
      }
      expect(statuses.size, `limit=${limit}`).toBeLessThanOrEqual(1);
    }
    for (const historyLimit of [1e9, -1, 1.5]) {
      const res = await t.api("POST", `/v1/users/${user.id}/context`, { body: { historyLimit } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.json.error.details.field).toBe("body.historyLimit");
    }
    expect(await t.dump()).toEqual(before);
  });

  it("stores SQL in strings verbatim", async () => {
    const t = await startTestServer(engine);
    const sql = "'); DROP TABLE messages; -- \" ; SELECT * FROM users WHERE '1'='1";
    const { json: user } = await t.api("POST", "/v1/users", {
      body: { externalId: sql, displayName: sql, profile: { [sql]: sql } },
    });
    expect(user).toMatchObject({ externalId: sql, displayName: sql, profile: { [sql]: sql } });
    const title = "x'; DELETE FROM users; --";
    const { json: conversation } = await t.api("POST", `/v1/users/${user.id}/conversations`, {
      body: { title, externalId: sql },
    });
    expect(conversation).toMatchObject({ title, externalId: sql });
    const message = await t.api("POST", `/v1/conversations/${conversation.id}/messages`, {
      body: { role: "user", content: sql, clientMessageId: sql, parts: [{ q: sql }] },
    });
    expect(message.status).toBe(201);
    const state = await t.api("PUT", `/v1/conversations/${conversation.id}/state`, {
      body: { [sql]: sql },
      headers: { "if-match": "0" },
    });
    expect(state.status).toBe(200);

    const read = await t.api("GET", `/v1/conversations/${conversation.id}`);
    expect(read.json).toMatchObject({ title, externalId: sql });
    expect(read.json.messages[0]).toMatchObject({ content: sql, clientMessageId: sql, parts: [{ q: sql }] });
    expect((await t.api("GET", `/v1/conversations/${conversation.id}/state`)).json.state).toEqual({ [sql]: sql });
    expect((await t.api("GET", `/v1/users/${user.id}`)).json).toMatchObject({ externalId: sql, displayName: sql });
    // Found again by the same externalId.
    const again = await t.api("POST", "/v1/users", { body: { externalId: sql } });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(user.id);
    const stored = await rawQuery<{ content: string }>(t.convo, `SELECT content FROM messages WHERE user_id = '${user.id}'`);
    expect(stored).toEqual([{ content: sql }]);
    expect((await rawQuery(t.convo, "SELECT count(*)::int AS n FROM users"))[0]).toEqual({ n: 1 });
  });

  it("accepts a 30-character Cyrillic or emoji title", async () => {
    const t = await startTestServer(engine);
    const { user, id } = await fixture(t);
    for (const title of ["ж".repeat(30), "😀".repeat(30), "👨‍👩‍👧".repeat(6), "Ёжик в тумане 🦔 и медвежонок!"]) {
      const length = [...title].length;
      expect(length).toBeLessThanOrEqual(30);
      const renamed = await t.api("PATCH", `/v1/conversations/${id}`, { body: { title } });
      expect(renamed.status, `${title} (${length})`).toBe(200);
      expect(renamed.json.title).toBe(title);
      const created = await t.api("POST", `/v1/users/${user.id}/conversations`, { body: { title } });
      expect(created.status).toBe(201);
      expect(created.json.title).toBe(title);
    }
  });

  it("round-trips Russian, emoji, combining marks and ZWJ sequences byte for byte", async () => {
    const t = await startTestServer(engine);
    const user = await t.createUser();
    const texts = [
      "Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.",
      "Эмодзи: 😀🎉🦔 и флаг 🇷🇺, кожа 👋🏽",
      // e + COMBINING ACUTE, й as и + COMBINING BREVE (not normalised to precomposed forms)
      "Cafe\u0301 и\u0306 Ё vs Е\u0308",
      // family: man ZWJ woman ZWJ girl ZWJ boy
      "Семья: \u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466} конец",
      "Mixed: 日本語 العربية עברית \u{1F9D1}\u{1F3FD}\u200D\u{1F4BB}",
    ];
    for (const text of texts) {
      const bytes = Buffer.from(text, "utf8");
      // Raw UTF-8 bytes on the wire, not \u escapes.
      const body = Buffer.concat([Buffer.from('{"role":"user","content":"'), bytes, Buffer.from('"}')]);
      const sent = await t.api("POST", `/v1/users/${user.id}/messages`, {
        rawBody: body,
        headers: { "content-type": "application/json; charset=utf-8" },
      });
      expect(sent.status).toBe(201);
      expect(contentBytes(sent.bytes).equals(bytes), text).toBe(true);
      expect(sent.json.content).toBe(text);

      const page = await t.api(
        "GET",
        `/v1/conversations/${sent.json.conversationId}/messages?afterSeq=${sent.json.seq - 1}&limit=1`,
      );
      expect(contentBytes(page.bytes).equals(bytes), text).toBe(true);
      const [row] = await rawQuery<{ hex: string }>(
        t.convo,
        `SELECT encode(convert_to(content, 'UTF8'), 'hex') AS hex FROM messages WHERE id = '${sent.json.id}'`,
      );
      expect(row?.hex).toBe(bytes.toString("hex"));
    }
    // The automatic title comes from the first message, cut but still valid Unicode.
    const list = await t.api("GET", `/v1/users/${user.id}/conversations`);
    const title: string = list.json.sessions[0].title;
    expect(title.length).toBeGreaterThan(0);
    expect(Buffer.from(title, "utf8").toString("utf8")).toBe(title);
    expect(title).not.toMatch(/[\uD800-\uDFFF]/u);
  });
});

/** The raw bytes of the first `"content":"…"` string in a JSON response (the texts hold no quote or backslash). */
function contentBytes(response: Buffer): Buffer {
  const marker = Buffer.from('"content":"');
  const start = response.indexOf(marker);
  if (start < 0) throw new Error(`no content in ${response.toString()}`);
  const from = start + marker.length;
  return response.subarray(from, response.indexOf('"', from));
}

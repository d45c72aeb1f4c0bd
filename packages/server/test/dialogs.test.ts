/**
 * Assistant dialogs over HTTP (DESIGN_ANALYTICS_SQL.md §1.7, §3, §4; docs/dialogs.md), black-box
 * against a real server: the lifecycle, every refused change out of a closed dialog,
 * restart, the model-error fallback, the photo swap, bad input, ownership — each refusal
 * proven to change nothing — and the analytics routes checked against the design's SQL.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { DESIGN_ANALYTICS_SQL } from "../../core/test/support/design-analytics.js";
import { type Api, type ApiResponse, engines, rawQuery, startTestServer, type TestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

type Json = Record<string, unknown>;

/** Starts a dialog for `userId` (admin) and answers its JSON. */
async function startDialog(api: Api, userId: string, body?: Json): Promise<Json & { id: string }> {
  const res = await api("POST", `/v1/users/${userId}/assistant-sessions`, body === undefined ? {} : { body });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

function expectError(res: ApiResponse, status: number, code: string, label = "") {
  expect(res.status, `${label} ${res.text}`).toBe(status);
  expect(res.json?.error?.code, `${label} ${res.text}`).toBe(code);
  expect(res.json.error.message, label).toEqual(expect.any(String));
}

const activeCount = async (t: TestServer, userId: string) =>
  Number(
    (
      await rawQuery<{ n: unknown }>(
        t.convo,
        `SELECT count(*) AS n FROM assistant_sessions WHERE user_id = '${userId}' AND status = 'active'`,
      )
    )[0]?.n,
  );

describe.each(engines)("assistant dialogs over HTTP on %s", (engine) => {
  it("runs a dialog from start to completed: slots, appended chat lines, confirm and close", async () => {
    const t = await startTestServer(engine);
    const { api } = t;
    const user = await t.createUser({ externalId: "tg:1001" });
    const conversation = (await api("POST", `/v1/users/${user.id}/conversations`, { body: {} })).json;

    const created = await api("POST", `/v1/users/${user.id}/assistant-sessions`, {
      body: { env: "test", sessionId: conversation.id },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({
      userId: user.id,
      sessionId: conversation.id,
      goal: null,
      style: null,
      emotion: null,
      pose: null,
      stickerText: null,
      confirmed: false,
      currentStep: 0,
      messages: [],
      errorCount: 0,
      pendingPhotoFileId: null,
      photoFileId: null,
      status: "active",
      env: "test",
      importKey: null,
      completedAt: null,
    });
    const id = created.json.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(created.json.createdAt).toISOString()).toBe(created.json.createdAt);

    const active = await api("GET", `/v1/users/${user.id}/assistant-sessions/active`);
    expect(active.status).toBe(200);
    expect(active.json).toEqual(created.json);
    expect((await api("GET", `/v1/assistant-sessions/${id}`)).json).toEqual(created.json);

    // Step 0: the goal, with the first two chat lines.
    const lines = [
      { role: "assistant", content: "Для чего стикер?" },
      { role: "user", content: "a birthday sticker for my sister 🎂" },
    ];
    const goal = await api("PATCH", `/v1/assistant-sessions/${id}`, {
      body: { goal: "a birthday sticker for my sister 🎂", currentStep: 1, appendMessages: lines },
    });
    expect(goal.status, goal.text).toBe(200);
    expect(goal.json).toMatchObject({ goal: "a birthday sticker for my sister 🎂", currentStep: 1, messages: lines });

    // Later steps append: the earlier lines stay exactly as they were.
    const more = [
      { role: "assistant", content: "Стиль?" },
      { role: "user", content: "anime" },
      { role: "system", content: "" },
    ];
    const slots = await api("PATCH", `/v1/assistant-sessions/${id}`, {
      body: {
        style: "anime",
        emotion: "joy",
        pose: "wave",
        stickerText: "С днём рождения!",
        photoFileId: "AgAD-photo",
        currentStep: 5,
        appendMessages: more,
      },
    });
    expect(slots.status, slots.text).toBe(200);
    expect(slots.json).toMatchObject({
      goal: "a birthday sticker for my sister 🎂",
      style: "anime",
      emotion: "joy",
      pose: "wave",
      stickerText: "С днём рождения!",
      photoFileId: "AgAD-photo",
      currentStep: 5,
      status: "active",
    });
    expect(slots.json.messages).toEqual([...lines, ...more]);

    // null = no text on the sticker; an update without appendMessages keeps the chat.
    const noText = await api("PATCH", `/v1/assistant-sessions/${id}`, { body: { stickerText: null, currentStep: 6 } });
    expect(noText.status, noText.text).toBe(200);
    expect(noText.json).toMatchObject({ stickerText: null, currentStep: 6, style: "anime" });
    expect(noText.json.messages).toEqual([...lines, ...more]);

    const confirmed = await api("PATCH", `/v1/assistant-sessions/${id}`, {
      body: { confirmed: true, currentStep: 7, appendMessages: [{ role: "user", content: "да" }] },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.json).toMatchObject({ confirmed: true, currentStep: 7, status: "active", completedAt: null });
    expect(confirmed.json.messages).toHaveLength(6);

    const closed = await api("POST", `/v1/assistant-sessions/${id}/close`, { body: { status: "completed" } });
    expect(closed.status, closed.text).toBe(200);
    expect(closed.json).toMatchObject({ status: "completed", confirmed: true, currentStep: 7, stickerText: null });
    expect(closed.json.completedAt).toEqual(expect.any(String));
    expect(closed.json.updatedAt).toBe(closed.json.completedAt);
    expect(closed.json.messages).toEqual([...lines, ...more, { role: "user", content: "да" }]);
    expect((await api("GET", `/v1/assistant-sessions/${id}`)).json).toEqual(closed.json);

    // Nothing active now.
    expectError(await api("GET", `/v1/users/${user.id}/assistant-sessions/active`), 404, "NOT_FOUND");

    // What is stored, flat, in the row.
    const [row] = await rawQuery<Json>(
      t.convo,
      `SELECT goal, style, emotion, pose, sticker_text, confirmed, current_step, status, env, session_id,
              completed_at IS NOT NULL AS has_completed, jsonb_array_length(messages) AS lines
       FROM assistant_sessions WHERE id = '${id}'`,
    );
    expect(row).toMatchObject({
      goal: "a birthday sticker for my sister 🎂",
      style: "anime",
      sticker_text: null,
      confirmed: true,
      current_step: 7,
      status: "completed",
      env: "test",
      session_id: conversation.id,
      has_completed: true,
    });
    expect(Number(row?.lines)).toBe(6);

    // The link to the conversation: another user's conversation is not found; deleting the
    // conversation keeps the dialog and clears the link.
    const stranger = await t.createUser();
    const theirs = (await api("POST", `/v1/users/${stranger.id}/conversations`, { body: {} })).json;
    const before = await t.dump();
    expectError(
      await api("POST", `/v1/users/${user.id}/assistant-sessions`, { body: { sessionId: theirs.id } }),
      404,
      "NOT_FOUND",
    );
    expect(await t.dump()).toEqual(before);
    expect((await api("DELETE", `/v1/conversations/${conversation.id}`)).status).toBeLessThan(300);
    const unlinked = await api("GET", `/v1/assistant-sessions/${id}`);
    expect(unlinked.status).toBe(200);
    expect(unlinked.json).toMatchObject({
      id,
      sessionId: null,
      status: "completed",
      goal: "a birthday sticker for my sister 🎂",
    });
  });

  it("close completed sets confirmed and completedAt even when not confirmed before; abandoned and error do not", async () => {
    const t = await startTestServer(engine);
    const [a, b, c] = [await t.createUser(), await t.createUser(), await t.createUser()];

    const completed = await startDialog(t.api, a.id);
    const done = await t.api("POST", `/v1/assistant-sessions/${completed.id}/close`, { body: { status: "completed" } });
    expect(done.status, done.text).toBe(200);
    expect(done.json).toMatchObject({ status: "completed", confirmed: true });
    expect(done.json.completedAt).toEqual(expect.any(String));

    for (const [user, status] of [
      [b, "abandoned"],
      [c, "error"],
    ] as const) {
      const dialog = await startDialog(t.api, user.id, { env: "prod" });
      const res = await t.api("POST", `/v1/assistant-sessions/${dialog.id}/close`, { body: { status } });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ status, confirmed: false, completedAt: null, env: "prod" });
      expect(Date.parse(res.json.updatedAt)).toBeGreaterThanOrEqual(Date.parse(dialog.updatedAt as string));
    }
  });

  it("refuses every change out of a closed dialog with 409 DIALOG_CLOSED and changes nothing", async () => {
    const t = await startTestServer(engine);
    const closed: { id: string; status: string }[] = [];
    for (const status of ["completed", "abandoned", "error"]) {
      const user = await t.createUser();
      const dialog = await startDialog(t.api, user.id);
      await t.api("PATCH", `/v1/assistant-sessions/${dialog.id}`, {
        body: { goal: `goal of ${status}`, photoFileId: "AgAD-old", appendMessages: [{ role: "user", content: "hi" }] },
      });
      // One with a pending photo, so resolve would have something to do.
      expect(
        (await t.api("POST", `/v1/assistant-sessions/${dialog.id}/pending-photo`, { body: { fileId: "AgAD-new" } })).status,
      ).toBe(200);
      const res = await t.api("POST", `/v1/assistant-sessions/${dialog.id}/close`, { body: { status } });
      expect(res.status, res.text).toBe(200);
      closed.push({ id: dialog.id, status });
    }

    const before = await t.dump();
    for (const { id, status } of closed) {
      const attempts: [string, string, Json | undefined][] = [
        ["PATCH", "", { goal: "changed" }],
        ["PATCH", "", {}],
        ["PATCH", "", { appendMessages: [{ role: "user", content: "late" }] }],
        ["PATCH", "", { confirmed: true, currentStep: 7 }],
        ["POST", "/close", { status: "completed" }],
        ["POST", "/close", { status: "abandoned" }],
        ["POST", "/close", { status: "error" }],
        ["POST", "/errors", undefined],
        ["POST", "/successes", undefined],
        ["POST", "/pending-photo", { fileId: "AgAD-newer" }],
        ["POST", "/pending-photo/resolve", { choice: "keep" }],
        ["POST", "/pending-photo/resolve", { choice: "take" }],
      ];
      for (const [method, suffix, body] of attempts) {
        const label = `${status}: ${method} ${suffix} ${JSON.stringify(body)}`;
        const res = await t.api(method, `/v1/assistant-sessions/${id}${suffix}`, body === undefined ? {} : { body });
        expectError(res, 409, "DIALOG_CLOSED", label);
        expect(res.json.error.details, label).toEqual({ id, status });
      }
      // Still readable as it was.
      const read = await t.api("GET", `/v1/assistant-sessions/${id}`);
      expect(read.json).toMatchObject({ status, goal: `goal of ${status}`, pendingPhotoFileId: "AgAD-new" });
    }
    expect(await t.dump()).toEqual(before);
  });

  it("restarts: a second start closes the first as abandoned; concurrent starts leave exactly one active", async () => {
    const t = await startTestServer(engine);
    const user = await t.createUser();
    const first = await startDialog(t.api, user.id);
    await t.api("PATCH", `/v1/assistant-sessions/${first.id}`, { body: { goal: "first try", currentStep: 2 } });

    const second = await startDialog(t.api, user.id);
    expect(second.id).not.toBe(first.id);
    expect(second).toMatchObject({ status: "active", goal: null, currentStep: 0 });
    const firstNow = await t.api("GET", `/v1/assistant-sessions/${first.id}`);
    expect(firstNow.json).toMatchObject({ status: "abandoned", goal: "first try", currentStep: 2, completedAt: null });
    expect((await t.api("GET", `/v1/users/${user.id}/assistant-sessions/active`)).json.id).toBe(second.id);
    expect(await activeCount(t, user.id)).toBe(1);

    // Another user's active dialog is not touched by this user's restarts.
    const other = await t.createUser();
    const othersDialog = await startDialog(t.api, other.id);

    const results = await Promise.all(
      Array.from({ length: 6 }, () => t.api("POST", `/v1/users/${user.id}/assistant-sessions`, { body: {} })),
    );
    for (const res of results) expect(res.status, res.text).toBe(201);
    expect(await activeCount(t, user.id)).toBe(1);
    const active = (await t.api("GET", `/v1/users/${user.id}/assistant-sessions/active`)).json;
    expect(results.map((r) => r.json.id)).toContain(active.id);
    const statuses = await rawQuery<{ status: string; n: unknown }>(
      t.convo,
      `SELECT status, count(*) AS n FROM assistant_sessions WHERE user_id = '${user.id}' GROUP BY status ORDER BY status`,
    );
    expect(statuses.map((r) => [r.status, Number(r.n)])).toEqual([
      ["abandoned", 7],
      ["active", 1],
    ]);
    expect((await t.api("GET", `/v1/assistant-sessions/${othersDialog.id}`)).json.status).toBe("active");
  });

  it("three model errors in a row end the dialog as error (fellBack); a success in between starts the count over", async () => {
    const t = await startTestServer(engine);
    const [a, b] = [await t.createUser(), await t.createUser()];

    const failing = await startDialog(t.api, a.id);
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.api("POST", `/v1/assistant-sessions/${failing.id}/errors`);
      expect(res.status, res.text).toBe(200);
      answers.push(res.json);
    }
    expect(answers.map((r) => [r.fellBack, r.dialog.status, r.dialog.errorCount])).toEqual([
      [false, "active", 1],
      [false, "active", 2],
      [true, "error", 3],
    ]);
    expect(answers[2].dialog.completedAt).toBeNull();
    expectError(await t.api("GET", `/v1/users/${a.id}/assistant-sessions/active`), 404, "NOT_FOUND");
    expectError(await t.api("POST", `/v1/assistant-sessions/${failing.id}/errors`), 409, "DIALOG_CLOSED");

    // error, success, error, error: still active.
    const recovering = await startDialog(t.api, b.id);
    const path = (s: string) => `/v1/assistant-sessions/${recovering.id}/${s}`;
    const e1 = await t.api("POST", path("errors"));
    expect(e1.json).toMatchObject({ fellBack: false, dialog: { errorCount: 1, status: "active" } });
    const ok = await t.api("POST", path("successes"));
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ errorCount: 0, status: "active" });
    const e2 = await t.api("POST", path("errors"));
    const e3 = await t.api("POST", path("errors"));
    expect(e2.json).toMatchObject({ fellBack: false, dialog: { errorCount: 1, status: "active" } });
    expect(e3.json).toMatchObject({ fellBack: false, dialog: { errorCount: 2, status: "active" } });
    expect((await t.api("GET", `/v1/users/${b.id}/assistant-sessions/active`)).json).toMatchObject({
      id: recovering.id,
      status: "active",
      errorCount: 2,
    });
  });

  it("swaps the photo: keep the old one, or take the new one; resolving without a pending photo is 409", async () => {
    const t = await startTestServer(engine);
    const user = await t.createUser();
    const dialog = await startDialog(t.api, user.id);
    const path = (s = "") => `/v1/assistant-sessions/${dialog.id}${s}`;
    await t.api("PATCH", path(), { body: { photoFileId: "AgAD-old", currentStep: 2 } });

    const pending = await t.api("POST", path("/pending-photo"), { body: { fileId: "AgAD-new" } });
    expect(pending.status, pending.text).toBe(200);
    expect(pending.json).toMatchObject({ photoFileId: "AgAD-old", pendingPhotoFileId: "AgAD-new" });
    const kept = await t.api("POST", path("/pending-photo/resolve"), { body: { choice: "keep" } });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.json).toMatchObject({ photoFileId: "AgAD-old", pendingPhotoFileId: null, status: "active" });

    await t.api("POST", path("/pending-photo"), { body: { fileId: "AgAD-newer" } });
    const taken = await t.api("POST", path("/pending-photo/resolve"), { body: { choice: "take" } });
    expect(taken.status, taken.text).toBe(200);
    expect(taken.json).toMatchObject({ photoFileId: "AgAD-newer", pendingPhotoFileId: null, status: "active" });

    // A double tap: nothing pending any more, nothing changes.
    const before = await t.dump();
    for (const choice of ["keep", "take"]) {
      expectError(await t.api("POST", path("/pending-photo/resolve"), { body: { choice } }), 409, "NO_PENDING_PHOTO", choice);
    }
    expect(await t.dump()).toEqual(before);
  });

  it("refuses bad input with a 4xx naming the field, and stores nothing", async () => {
    const t = await startTestServer(engine);
    const user = await t.createUser();
    const dialog = await startDialog(t.api, user.id);
    const path = `/v1/assistant-sessions/${dialog.id}`;
    await t.api("PATCH", path, { body: { goal: "kept", appendMessages: [{ role: "user", content: "kept" }] } });

    const cases: { name: string; method: string; path: string; body?: unknown; raw?: string; status: number; field?: string }[] =
      [
        { name: "step 8", method: "PATCH", path, body: { currentStep: 8 }, status: 422, field: "currentStep" },
        { name: "step -1", method: "PATCH", path, body: { currentStep: -1 }, status: 422, field: "currentStep" },
        { name: "NUL in goal", method: "PATCH", path, body: { goal: "a\u0000b" }, status: 422, field: "goal" },
        { name: "lone surrogate", method: "PATCH", path, raw: '{"style":"x\\ud800y"}', status: 422, field: "style" },
        { name: "empty slot", method: "PATCH", path, body: { emotion: "" }, status: 422, field: "emotion" },
        { name: "long goal", method: "PATCH", path, body: { goal: "g".repeat(2001) }, status: 422, field: "goal" },
        {
          name: "NUL in a chat line",
          method: "PATCH",
          path,
          body: { appendMessages: [{ role: "user", content: "x\u0000" }] },
          status: 422,
          field: "appendMessages[0].content",
        },
        { name: "unknown field", method: "PATCH", path, body: { goal: "x", colour: "red" }, status: 400, field: "body.colour" },
        { name: "wrong type", method: "PATCH", path, body: { confirmed: "yes" }, status: 400, field: "body.confirmed" },
        {
          name: "bad role",
          method: "PATCH",
          path,
          body: { appendMessages: [{ role: "robot", content: "beep" }] },
          status: 400,
        },
        {
          name: "malformed id (read)",
          method: "GET",
          path: "/v1/assistant-sessions/not-a-uuid",
          status: 400,
          field: "params.id",
        },
        {
          name: "malformed id (write)",
          method: "PATCH",
          path: "/v1/assistant-sessions/123",
          body: { goal: "x" },
          status: 400,
          field: "params.id",
        },
        {
          name: "malformed id (close)",
          method: "POST",
          path: "/v1/assistant-sessions/zzz/close",
          body: { status: "completed" },
          status: 400,
          field: "params.id",
        },
        { name: "close as active", method: "POST", path: `${path}/close`, body: { status: "active" }, status: 400 },
        { name: "close without status", method: "POST", path: `${path}/close`, body: {}, status: 400 },
        { name: "bad choice", method: "POST", path: `${path}/pending-photo/resolve`, body: { choice: "both" }, status: 400 },
        {
          name: "empty file id",
          method: "POST",
          path: `${path}/pending-photo`,
          body: { fileId: "" },
          status: 422,
          field: "fileId",
        },
        { name: "bad env", method: "POST", path: `/v1/users/${user.id}/assistant-sessions`, body: { env: "pro d" }, status: 422 },
        {
          name: "unknown create field",
          method: "POST",
          path: `/v1/users/${user.id}/assistant-sessions`,
          body: { goal: "x" },
          status: 400,
        },
        { name: "not JSON", method: "PATCH", path, raw: "{goal:", status: 400 },
      ];
    const before = await t.dump();
    for (const c of cases) {
      const res = await t.api(c.method, c.path, c.raw !== undefined ? { rawBody: c.raw } : { body: c.body });
      const label = `${c.name}: ${res.status} ${res.text.slice(0, 300)}`;
      expect(res.status, label).toBe(c.status);
      expect(res.json?.error?.code, label).toEqual(
        c.status === 422 ? "VALIDATION_FAILED" : expect.stringMatching(/^(INVALID_REQUEST|INVALID_JSON)$/),
      );
      expect(res.json.error.message.length, label).toBeGreaterThan(0);
      if (c.field) expect(res.json.error.details?.field, label).toBe(c.field);
    }
    expect(await t.dump()).toEqual(before);
    const still = (await t.api("GET", path)).json;
    expect(still).toMatchObject({ goal: "kept", status: "active", messages: [{ role: "user", content: "kept" }] });
  });

  it("hides another user's dialog: 404 for a user token on read and write, and for an admin naming the wrong user", async () => {
    const t = await startTestServer(engine);
    const [alice, bob] = [await t.createUser({ externalId: "alice" }), await t.createUser({ externalId: "bob" })];
    const bobs = await startDialog(t.api, bob.id);
    await t.api("POST", `/v1/assistant-sessions/${bobs.id}/pending-photo`, { body: { fileId: "AgAD-bob" } });
    const alices = await startDialog(t.api, alice.id);
    const aliceToken = await t.token(alice.id);
    const bobToken = await t.token(bob.id);

    // Each user reaches their own dialog with their own token.
    const own = await t.api("GET", `/v1/assistant-sessions/${alices.id}`, { token: aliceToken });
    expect(own.status, own.text).toBe(200);
    const ownPatch = await t.api("PATCH", `/v1/assistant-sessions/${bobs.id}`, { token: bobToken, body: { style: "pixel" } });
    expect(ownPatch.status, ownPatch.text).toBe(200);
    expect((await t.api("GET", `/v1/users/${bob.id}/assistant-sessions/active`, { token: bobToken })).json.id).toBe(bobs.id);

    const before = await t.dump();
    const dialogPath = `/v1/assistant-sessions/${bobs.id}`;
    const asAlice: [string, string, Json | undefined][] = [
      ["GET", dialogPath, undefined],
      ["PATCH", dialogPath, { goal: "stolen" }],
      ["POST", `${dialogPath}/close`, { status: "abandoned" }],
      ["POST", `${dialogPath}/errors`, undefined],
      ["POST", `${dialogPath}/successes`, undefined],
      ["POST", `${dialogPath}/pending-photo`, { fileId: "AgAD-alice" }],
      ["POST", `${dialogPath}/pending-photo/resolve`, { choice: "take" }],
      ["GET", `/v1/users/${bob.id}/assistant-sessions/active`, undefined],
      ["POST", `/v1/users/${bob.id}/assistant-sessions`, {}],
    ];
    for (const [method, p, body] of asAlice) {
      const res = await t.api(method, p, { token: aliceToken, ...(body === undefined ? {} : { body }) });
      expectError(res, 404, "NOT_FOUND", `alice: ${method} ${p}`);
      expect(res.text).not.toContain("AgAD-bob");
    }
    // An admin naming the wrong user in X-Convo-User-Id: not found either.
    const wrongUser = { "x-convo-user-id": alice.id };
    for (const [method, p, body] of asAlice.slice(0, 7)) {
      const res = await t.api(method, p, { headers: wrongUser, ...(body === undefined ? {} : { body }) });
      expectError(res, 404, "NOT_FOUND", `admin as alice: ${method} ${p}`);
    }
    // An unknown dialog id is the same 404.
    const unknown = await t.api("GET", "/v1/assistant-sessions/00000000-0000-4000-8000-000000000000");
    expectError(unknown, 404, "NOT_FOUND");
    expect(await t.dump()).toEqual(before);

    // Naming the right user works; a malformed header is 400.
    const right = await t.api("GET", dialogPath, { headers: { "x-convo-user-id": bob.id } });
    expect(right.status, right.text).toBe(200);
    expect(right.json).toMatchObject({ id: bobs.id, style: "pixel", pendingPhotoFileId: "AgAD-bob" });
    expectError(await t.api("GET", dialogPath, { headers: { "x-convo-user-id": "bob" } }), 400, "INVALID_REQUEST");
  });
});

// ---------------------------------------------------------------------------------------
// Analytics

interface Filter {
  env?: string;
  from?: string;
  to?: string;
}

/** Adds the filter's conditions to a design query's WHERE clause (or gives it one). */
function filtered(query: string, filter: Filter): string {
  const parts: string[] = [];
  if (filter.env) parts.push(`env = '${filter.env}'`);
  // As instants in UTC: PostgreSQL would read a bare date in the session's time zone.
  const at = (value: string) => new Date(value).toISOString();
  if (filter.from) parts.push(`created_at >= '${at(filter.from)}'`);
  if (filter.to) parts.push(`created_at < '${at(filter.to)}'`);
  if (parts.length === 0) return query;
  const cond = parts.join(" AND ");
  // A WHERE after white space is the query's own (the funnel's are "FILTER (WHERE …").
  if (/\sWHERE /.test(query)) return query.replace(/(\s)WHERE /, `$1WHERE ${cond} AND `);
  if (query.includes("GROUP BY")) return query.replace("GROUP BY", `WHERE ${cond} GROUP BY`);
  return query.replace(/;$/, ` WHERE ${cond};`);
}

const queryString = (filter: Filter & { limit?: number }) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : "";
};

/** mulberry32: the same data set on every run. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GOALS = Array.from({ length: 26 }, (_, i) => `goal ${String.fromCharCode(97 + i)}`);
const STYLES = ["anime", "pixel", "cartoon", "watercolor", "3d", "sketch"];
const EMOTIONS = ["joy", "love", "anger", "surprise", "sadness"];
const POSES = ["wave", "thumbs-up", "heart", "dance"];
const DAY = 86_400_000;
const START = Date.parse("2026-03-01T00:00:00Z");

/**
 * Inserts `n` dialogs (one user each, so any number may be active) over 12 days, two
 * envs, every status, with NULL slots, straight into the test server's schema.
 */
async function seedDialogs(t: TestServer, n: number) {
  const random = prng(7);
  const pick = <T>(list: T[], skew = 1) => list[Math.floor(random() ** skew * list.length)] as T;
  const maybe = (pNull: number, value: string) => (random() < pNull ? "NULL" : `'${value}'`);
  await rawQuery(t.convo, `INSERT INTO users (external_id) SELECT 'analytics:' || g FROM generate_series(1, ${n}) g`);
  const users = await rawQuery<{ id: string }>(t.convo, "SELECT id FROM users WHERE external_id LIKE 'analytics:%' ORDER BY 1");
  const values = users.map(({ id }) => {
    const env = random() < 0.65 ? "prod" : "test";
    const created = new Date(START + Math.floor(random() * 12 * DAY)).toISOString();
    const confirmed = random() < 0.45;
    const s = random();
    const status = confirmed
      ? s < 0.75
        ? "completed"
        : s < 0.9
          ? "active"
          : "abandoned"
      : s < 0.15
        ? "active"
        : s < 0.65
          ? "abandoned"
          : "error";
    const step = confirmed ? 5 + Math.floor(random() * 3) : Math.floor(random() * 8);
    const completedAt = status === "completed" ? `'${created}'::timestamptz + interval '9 minutes'` : "NULL";
    return `('${id}', ${maybe(0.2, pick(GOALS, 2))}, ${maybe(0.25, pick(STYLES, 1.5))}, ${maybe(0.3, pick(EMOTIONS))}, ${maybe(
      0.35,
      pick(POSES),
    )}, ${confirmed}, ${step}, '${status}', '${env}', '${created}', '${created}', ${completedAt})`;
  });
  await rawQuery(
    t.convo,
    `INSERT INTO assistant_sessions (user_id, goal, style, emotion, pose, confirmed, current_step, status, env,
       created_at, updated_at, completed_at)
     VALUES ${values.join(",\n")}`,
  );
}

type Counted = { count: number };

/**
 * The design's ORDER BY cnt DESC leaves ties unordered: the same counts in the same
 * order, every entry with the count the full grouping gives it, and the same entries
 * above the cut.
 */
function expectSameTop<T extends Counted>(label: string, ours: T[], design: T[], full: T[], key: (row: T) => string) {
  expect(
    ours.map((r) => r.count),
    label,
  ).toEqual(design.map((r) => r.count));
  const truth = new Map(full.map((r) => [key(r), r.count]));
  for (const row of ours) expect(truth.get(key(row)), `${label} ${key(row)}`).toBe(row.count);
  expect(new Set(ours.map(key)).size, label).toBe(ours.length);
  const floor = design[design.length - 1]?.count ?? 0;
  const above = (rows: T[]) => new Set(rows.filter((r) => r.count > floor).map(key));
  expect(above(ours), label).toEqual(above(design));
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Every analytics route under `filter` equals the design's SQL with the same conditions. */
async function compareRoutes(t: TestServer, filter: Filter, limit?: number): Promise<number> {
  const label = JSON.stringify({ ...filter, limit });
  const q = <T>(text: string) => rawQuery<T>(t.convo, filtered(text, filter));
  const get = async (report: string, withLimit = false) => {
    const res = await t.api(
      "GET",
      `/v1/analytics/assistant/${report}${queryString({ ...filter, limit: withLimit ? limit : undefined })}`,
    );
    expect(res.status, `${report} ${label}: ${res.text}`).toBe(200);
    return res.json;
  };
  const limitSql = (text: string) => (limit === undefined ? text : text.replace("LIMIT 20", `LIMIT ${limit}`));

  type Goal = { goal: string; count: number };
  const goalRows = (rows: { goal: string; cnt: unknown }[]) => rows.map((r) => ({ goal: r.goal, count: Number(r.cnt) }));
  const designGoals = goalRows(await q(limitSql(DESIGN_ANALYTICS_SQL.goals)));
  const allGoals = goalRows(await q(DESIGN_ANALYTICS_SQL.goals.replace(" LIMIT 20", "")));
  const goals = (await get("goals", true)).goals as Goal[];
  expectSameTop(`goals ${label}`, goals, designGoals, allGoals, (r) => r.goal);

  type Style = { style: string | null; count: number };
  const designStyles = (await q<{ style: string | null; cnt: unknown }>(DESIGN_ANALYTICS_SQL.styles)).map((r) => ({
    style: r.style,
    count: Number(r.cnt),
  }));
  const styles = (await get("styles")).styles as Style[];
  expect(styles.length, label).toBe(designStyles.length);
  expectSameTop(`styles ${label}`, styles, designStyles, designStyles, (r) => String(r.style));

  const [f] = await q<Record<string, unknown>>(DESIGN_ANALYTICS_SQL.funnel);
  expect((await get("funnel")).funnel, label).toEqual({
    started: num(f?.started),
    setGoal: num(f?.set_goal),
    choseStyle: num(f?.chose_style),
    choseEmotion: num(f?.chose_emotion),
    chosePose: num(f?.chose_pose),
    confirmed: num(f?.confirmed),
    completed: num(f?.completed),
  });

  const [avg] = await q<{ avg: unknown }>(DESIGN_ANALYTICS_SQL.steps);
  const steps = (await get("steps")).steps;
  expect(steps.confirmed, label).toBe(num(f?.confirmed));
  if (avg?.avg === null) expect(steps.averageStep, label).toBeNull();
  else expect(steps.averageStep, label).toBeCloseTo(Number(avg?.avg), 10);

  const expected: Record<string, number> = { active: 0, completed: 0, abandoned: 0, error: 0 };
  for (const row of await q<{ status: string; count: unknown }>(DESIGN_ANALYTICS_SQL.statuses))
    expected[row.status] = Number(row.count);
  expect((await get("statuses")).statuses, label).toEqual(expected);

  type Combo = { style: string | null; emotion: string | null; count: number };
  const comboRows = (rows: { style: string | null; emotion: string | null; cnt: unknown }[]) =>
    rows.map((r) => ({ style: r.style, emotion: r.emotion, count: Number(r.cnt) }));
  const designCombos = comboRows(await q(limitSql(DESIGN_ANALYTICS_SQL.combos)));
  const allCombos = comboRows(await q(DESIGN_ANALYTICS_SQL.combos.replace(" LIMIT 20", "")));
  const combos = (await get("combos", true)).combos as Combo[];
  expectSameTop(`combos ${label}`, combos, designCombos, allCombos, (r) => `${r.style}|${r.emotion}`);

  return num(f?.started) ?? 0;
}

describe.each(engines)("assistant analytics over HTTP on %s", (engine) => {
  it("answers what the design's SQL gives on a generated data set, unfiltered and by env and time range", async () => {
    const t = await startTestServer(engine);
    await seedDialogs(t, 320);
    // The data set is what it should be: every status, both envs, NULL slots, a cut top 20.
    const shape = await rawQuery<Json>(
      t.convo,
      `SELECT count(DISTINCT status) AS statuses, count(DISTINCT env) AS envs,
              count(DISTINCT created_at::date) AS days, count(*) FILTER (WHERE style IS NULL AND confirmed) AS null_styles,
              count(DISTINCT goal) AS goals
       FROM assistant_sessions`,
    );
    expect(Number(shape[0]?.statuses)).toBe(4);
    expect(Number(shape[0]?.envs)).toBe(2);
    expect(Number(shape[0]?.days)).toBeGreaterThanOrEqual(10);
    expect(Number(shape[0]?.null_styles)).toBeGreaterThan(0);
    expect(Number(shape[0]?.goals)).toBeGreaterThan(20);

    expect(await compareRoutes(t, {})).toBe(320);
    const filters: Filter[] = [
      { env: "prod" },
      { env: "test" },
      { from: "2026-03-03T00:00:00.000Z", to: "2026-03-08T00:00:00.000Z" },
      { env: "prod", from: "2026-03-05T00:00:00Z", to: "2026-03-07T12:00:00Z" },
      { from: "2026-03-10T00:00:00.000Z" },
      { env: "test", to: "2026-03-04T00:00:00.000Z" },
      // An offset other than Z, and a bare date (UTC midnight).
      { from: "2026-03-06T09:30:00+03:00", to: "2026-03-09" },
    ];
    for (const filter of filters) expect(await compareRoutes(t, filter), JSON.stringify(filter)).toBeGreaterThan(0);
    // A smaller top N, and a filter nothing matches.
    await compareRoutes(t, { env: "prod" }, 5);
    expect(await compareRoutes(t, { env: "nowhere" })).toBe(0);
    const none = await t.api("GET", "/v1/analytics/assistant/steps?env=nowhere");
    expect(none.json).toEqual({ steps: { averageStep: null, confirmed: 0 } });
  });

  it("is for admin keys only: a user token gets 404; bad parameters get a 4xx naming the field", async () => {
    const t = await startTestServer(engine);
    const user = await t.createUser();
    await startDialog(t.api, user.id);
    const token = await t.token(user.id);
    for (const report of ["goals", "styles", "funnel", "statuses", "steps", "combos"]) {
      const res = await t.api("GET", `/v1/analytics/assistant/${report}`, { token });
      expectError(res, 404, "NOT_FOUND", report);
      expect(res.text).not.toContain(user.id);
      const admin = await t.api("GET", `/v1/analytics/assistant/${report}`);
      expect(admin.status, admin.text).toBe(200);
    }
    expect((await t.api("GET", "/v1/analytics/assistant/funnel", { token: null })).status).toBe(401);

    const bad: [string, string][] = [
      ["from=yesterday", "from"],
      ["from=2026-03-01T10:00:00", "from"], // no zone
      ["to=not-a-date", "to"],
      ["from=2026-03-05T00:00:00Z&to=2026-03-01T00:00:00Z", "from"],
      ["env=pro%20d", "env"],
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["limit=101", "limit"],
      ["colour=red", "colour"],
    ];
    for (const [query, field] of bad) {
      const res = await t.api("GET", `/v1/analytics/assistant/goals?${query}`);
      expect(res.status, `${query}: ${res.text}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${query}: ${res.text}`).toBeLessThan(500);
      expect(res.json?.error?.code, query).toMatch(/^(VALIDATION_FAILED|INVALID_REQUEST)$/);
      if (field) expect(String(res.json.error.details?.field), query).toMatch(new RegExp(`(^|\\.)${field}$`));
    }
  });
});

/** Every v1 route's happy path, against a real server on an ephemeral port. */
import { beforeAll, describe, expect, it } from "vitest";
import { engines, rawQuery, startTestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

describe.each(engines)("routes on %s", (engine) => {
  it("creates, reads and updates users; the same externalId answers the same user (200)", async () => {
    const { api } = await startTestServer(engine);
    const created = await api("POST", "/v1/users", {
      body: { externalId: "tg:480637186", displayName: "Алиса", profile: { lang: "ru", tz: "Europe/Moscow" } },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      externalId: "tg:480637186",
      displayName: "Алиса",
      profile: { lang: "ru", tz: "Europe/Moscow" },
    });
    expect(created.json.id).toMatch(/^[0-9a-f-]{36}$/);

    const again = await api("POST", "/v1/users", { body: { externalId: "tg:480637186" } });
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(created.json.id);

    const read = await api("GET", `/v1/users/${created.json.id}`);
    expect(read.status).toBe(200);
    expect(read.json).toEqual(created.json);

    const patched = await api("PATCH", `/v1/users/${created.json.id}`, {
      body: { displayName: "Alice", profile: { lang: "en" } },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ id: created.json.id, displayName: "Alice", profile: { lang: "en" } });
    expect((await api("GET", `/v1/users/${created.json.id}`)).json.displayName).toBe("Alice");

    const anonymous = await api("POST", "/v1/users", { body: {} });
    expect(anonymous.status).toBe(201);
    expect(anonymous.json.id).not.toBe(created.json.id);
  });

  it("creates, lists, reads, renames, closes and deletes conversations", async () => {
    const { api, convo, createUser } = await startTestServer(engine);
    const user = await createUser();

    const first = await api("POST", `/v1/users/${user.id}/conversations`, { body: { title: "Первый" } });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ userId: user.id, title: "Первый", isActive: true, status: "active", messageCount: 0 });

    // closeCurrent closes the open one before starting the next.
    const second = await api("POST", `/v1/users/${user.id}/conversations`, { body: { closeCurrent: true } });
    expect(second.status).toBe(201);
    expect(second.json.isActive).toBe(true);
    const firstNow = await api("GET", `/v1/conversations/${first.json.id}`);
    expect(firstNow.json).toMatchObject({ status: "closed", isActive: false, closeReason: "user" });
    expect(firstNow.json.closedAt).not.toBeNull();

    // Without a body at all, too.
    const third = await api("POST", `/v1/users/${user.id}/conversations`);
    expect(third.status).toBe(201);

    const list = await api("GET", `/v1/users/${user.id}/conversations`);
    expect(list.status).toBe(200);
    expect(list.json.total).toBe(3);
    expect(list.json.hasMore).toBe(false);
    expect(list.json.nextCursor).toBeNull();
    expect(list.json.sessions.map((s: { id: string }) => s.id).sort()).toEqual(
      [first.json.id, second.json.id, third.json.id].sort(),
    );
    const closed = await api("GET", `/v1/users/${user.id}/conversations?status=closed`);
    expect(closed.json.sessions.map((s: { id: string }) => s.id)).toEqual([first.json.id]);
    expect(closed.json.total).toBe(1);

    const id = second.json.id;
    await api("POST", `/v1/conversations/${id}/messages`, { body: { role: "user", content: "Привет" } });
    await api("POST", `/v1/conversations/${id}/messages`, { body: { role: "assistant", content: "Здравствуйте!" } });
    const detail = await api("GET", `/v1/conversations/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.json.messageCount).toBe(2);
    expect(detail.json.hasMoreMessages).toBe(false);
    expect(detail.json.messages.map((m: { seq: number; content: string }) => [m.seq, m.content])).toEqual([
      [1, "Привет"],
      [2, "Здравствуйте!"],
    ]);

    const renamed = await api("PATCH", `/v1/conversations/${id}`, { body: { title: "Новое имя" } });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ id, title: "Новое имя", titleSource: "user" });

    const close = await api("POST", `/v1/conversations/${id}/close`);
    expect(close.status).toBe(200);
    expect(close.json).toMatchObject({ id, status: "closed", isActive: false, closeReason: "user" });
    const closeAgain = await api("POST", `/v1/conversations/${id}/close`, { body: { reason: "app" } });
    expect(closeAgain.status).toBe(200);
    expect(closeAgain.json.status).toBe("closed");
    const appendClosed = await api("POST", `/v1/conversations/${id}/messages`, { body: { role: "user", content: "late" } });
    expect(appendClosed.status).toBe(409);
    expect(appendClosed.json.error.code).toBe("CONVERSATION_CLOSED");

    const deleted = await api("DELETE", `/v1/conversations/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    for (const [method, path] of [
      ["GET", `/v1/conversations/${id}`],
      ["GET", `/v1/conversations/${id}/messages`],
      ["GET", `/v1/conversations/${id}/state`],
      ["DELETE", `/v1/conversations/${id}`],
    ] as const) {
      const res = await api(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
    // Its messages went with it.
    expect(await rawQuery(convo, `SELECT id FROM messages WHERE conversation_id = '${id}'`)).toEqual([]);
  });

  it("appends messages, answers a repeated clientMessageId with the stored message (200) and pages with afterSeq", async () => {
    const { api, createUser } = await startTestServer(engine);
    const user = await createUser();
    const { json: conversation } = await api("POST", `/v1/users/${user.id}/conversations`, { body: {} });
    const path = `/v1/conversations/${conversation.id}/messages`;

    const first = await api("POST", path, {
      body: { role: "user", content: "Сделай стикер", clientMessageId: "tg-1001", parts: [{ type: "photo", fileId: "AgAD" }] },
    });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({
      conversationId: conversation.id,
      userId: user.id,
      seq: 1,
      role: "user",
      content: "Сделай стикер",
      clientMessageId: "tg-1001",
      parts: [{ type: "photo", fileId: "AgAD" }],
      noise: false,
    });
    const retry = await api("POST", path, { body: { role: "user", content: "Сделай стикер", clientMessageId: "tg-1001" } });
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(first.json);

    const noise = await api("POST", path, { body: { role: "system", content: "Welcome!", noise: true } });
    expect(noise.status).toBe(201);
    expect(noise.json).toMatchObject({ seq: 2, noise: true });
    for (let i = 3; i <= 7; i++) {
      const res = await api("POST", path, { body: { role: i % 2 ? "assistant" : "user", content: `m${i}` } });
      expect(res.json.seq).toBe(i);
    }

    const seqs: number[] = [];
    let afterSeq = 0;
    for (let guard = 0; guard < 10; guard++) {
      const page = await api("GET", `${path}?afterSeq=${afterSeq}&limit=3`);
      expect(page.status).toBe(200);
      seqs.push(...page.json.messages.map((m: { seq: number }) => m.seq));
      if (!page.json.hasMore) {
        expect(page.json.nextCursor).toBeNull();
        break;
      }
      expect(page.json.nextCursor).toBe(String(seqs.at(-1)));
      afterSeq = Number(page.json.nextCursor);
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const tail = await api("GET", `${path}?afterSeq=5`);
    expect(tail.json.messages.map((m: { seq: number }) => m.seq)).toEqual([6, 7]);
    expect(tail.json.hasMore).toBe(false);
    expect((await api("GET", `/v1/conversations/${conversation.id}`)).json.messageCount).toBe(7);
  });

  it("numbers concurrent appends 1..n without gaps and stores a concurrently retried clientMessageId once", async () => {
    const { api, convo, createUser } = await startTestServer(engine);
    const user = await createUser();
    const { json: conversation } = await api("POST", `/v1/users/${user.id}/conversations`);
    const path = `/v1/conversations/${conversation.id}/messages`;
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api("POST", path, { body: { role: "user", content: `parallel ${i}` } })),
    );
    expect(appended.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(appended.map((r) => r.json.seq).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );

    const retries = await Promise.all(
      Array.from({ length: 6 }, () => api("POST", path, { body: { role: "user", content: "once", clientMessageId: "retry-1" } })),
    );
    expect(retries.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(retries.map((r) => r.json.id)).size).toBe(1);
    const stored = await rawQuery(convo, `SELECT id FROM messages WHERE client_message_id = 'retry-1'`);
    expect(stored).toHaveLength(1);

    // The same through append-to-current, where the conversation is opened on the way.
    const other = await createUser();
    const first = await Promise.all(
      Array.from({ length: 6 }, () =>
        api("POST", `/v1/users/${other.id}/messages`, { body: { role: "user", content: "hi", clientMessageId: "tg-1" } }),
      ),
    );
    expect(first.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(first.map((r) => r.json.conversationId)).size).toBe(1);
    expect((await api("GET", `/v1/users/${other.id}/conversations`)).json.total).toBe(1);
  });

  it("appends to the current conversation, opening one when needed, and to the one keyed externalId", async () => {
    const { api, createUser } = await startTestServer(engine);
    const user = await createUser();
    const path = `/v1/users/${user.id}/messages`;

    const first = await api("POST", path, { body: { role: "user", content: "Привет! Нарисуй кота" } });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ seq: 1, content: "Привет! Нарисуй кота", conversationCreated: true });
    expect(first.json.conversation).toMatchObject({ id: first.json.conversationId, isActive: true, messageCount: 1 });
    expect(first.json.conversation.title).toBeTruthy();

    const second = await api("POST", path, { body: { role: "assistant", content: "Конечно!", clientMessageId: "a-1" } });
    expect(second.status).toBe(201);
    expect(second.json).toMatchObject({ seq: 2, conversationId: first.json.conversationId, conversationCreated: false });
    const retry = await api("POST", path, { body: { role: "assistant", content: "Конечно!", clientMessageId: "a-1" } });
    expect(retry.status).toBe(200);
    expect(retry.json.id).toBe(second.json.id);

    // After closing, the next message opens a new conversation.
    await api("POST", `/v1/conversations/${first.json.conversationId}/close`);
    const third = await api("POST", path, { body: { role: "user", content: "Ещё" } });
    expect(third.status).toBe(201);
    expect(third.json.conversationCreated).toBe(true);
    expect(third.json.conversationId).not.toBe(first.json.conversationId);

    // A client key creates its conversation on first use and reuses it after.
    const keyed = await api("POST", path, { body: { role: "user", content: "k1", externalId: "480637186_1767475520" } });
    expect(keyed.status).toBe(201);
    expect(keyed.json.conversationCreated).toBe(true);
    expect(keyed.json.conversation.externalId).toBe("480637186_1767475520");
    const keyedAgain = await api("POST", path, { body: { role: "user", content: "k2", externalId: "480637186_1767475520" } });
    expect(keyedAgain.status).toBe(201);
    expect(keyedAgain.json).toMatchObject({ conversationId: keyed.json.conversationId, seq: 2, conversationCreated: false });
    const list = await api("GET", `/v1/users/${user.id}/conversations`);
    expect(list.json.total).toBe(3);
  });

  it("reads and writes the state document with ETag and If-Match (428 without, 409 when stale)", async () => {
    const { api, createUser } = await startTestServer(engine);
    const user = await createUser();
    const { json: conversation } = await api("POST", `/v1/users/${user.id}/conversations`);
    const path = `/v1/conversations/${conversation.id}/state`;

    const empty = await api("GET", path);
    expect(empty.status).toBe(200);
    expect(empty.json).toMatchObject({ conversationId: conversation.id, version: 0, state: {} });
    expect(empty.headers.get("etag")).toBe('"0"');

    const missing = await api("PUT", path, { body: { step: 1 } });
    expect(missing.status).toBe(428);
    expect(missing.json.error.code).toBe("PRECONDITION_REQUIRED");
    expect((await api("PATCH", path, { body: { step: 1 } })).status).toBe(428);

    const put = await api("PUT", path, { body: { step: 1, entities: { city: "Москва" } }, headers: { "if-match": '"0"' } });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ version: 1, state: { step: 1, entities: { city: "Москва" } } });
    expect(put.headers.get("etag")).toBe('"1"');

    const stale = await api("PUT", path, { body: { step: 9 }, headers: { "if-match": '"0"' } });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe("STATE_VERSION_CONFLICT");

    // A weak validator names the same version.
    const patched = await api("PATCH", path, {
      body: { attempts: 2, entities: { city: null } },
      headers: { "if-match": 'W/"1"' },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ version: 2, state: { step: 1, attempts: 2, entities: {} } });
    expect(patched.headers.get("etag")).toBe('"2"');
    const stalePatch = await api("PATCH", path, { body: { attempts: 3 }, headers: { "if-match": '"1"' } });
    expect(stalePatch.status).toBe(409);

    const read = await api("GET", path);
    expect(read.json).toMatchObject({ version: 2, state: { step: 1, attempts: 2, entities: {} } });
    expect(read.headers.get("etag")).toBe('"2"');
  });

  it("loads the context: recent history oldest first, previous sessions and the profile", async () => {
    const { api } = await startTestServer(engine);
    const { json: user } = await api("POST", "/v1/users", { body: { externalId: "tg:1", profile: { name: "Маша" } } });
    const { json: old } = await api("POST", `/v1/users/${user.id}/conversations`, { body: { title: "Старый" } });
    await api("POST", `/v1/conversations/${old.id}/messages`, { body: { role: "user", content: "old" } });
    const { json: current } = await api("POST", `/v1/users/${user.id}/conversations`, { body: { closeCurrent: true } });
    const path = `/v1/conversations/${current.id}/messages`;
    await api("POST", path, { body: { role: "system", content: "Welcome", noise: true } });
    for (const content of ["one", "two", "three"]) await api("POST", path, { body: { role: "user", content } });

    const context = await api("POST", `/v1/users/${user.id}/context`, { body: { historyLimit: 2 } });
    expect(context.status).toBe(200);
    expect(context.json.conversation.id).toBe(current.id);
    expect(context.json.conversationHistory.map((m: { content: string }) => m.content)).toEqual(["two", "three"]);
    expect(context.json.sessionHistory).toHaveLength(1);
    expect(context.json.sessionHistory[0]).toMatchObject({ id: old.id, title: "Старый", status: "closed", messageCount: 1 });
    expect(context.json.userProfile).toMatchObject({ name: "Маша" });

    // Defaults without a body; client-held history merges without duplicates.
    const byDefault = await api("POST", `/v1/users/${user.id}/context`);
    expect(byDefault.status).toBe(200);
    expect(byDefault.json.conversationHistory.map((m: { content: string }) => m.content)).toEqual(["one", "two", "three"]);
    const merged = await api("POST", `/v1/users/${user.id}/context`, {
      body: {
        conversationId: current.id,
        history: [
          { role: "user", content: "three" },
          { role: "user", content: "four" },
        ],
      },
    });
    expect(merged.status).toBe(200);
    expect(merged.json.conversationHistory.map((m: { content: string }) => m.content)).toEqual(["one", "two", "three", "four"]);
  });

  it("pages a user's conversations with total, hasMore, nextCursor and messageCount", async () => {
    const { api, createUser } = await startTestServer(engine);
    const user = await createUser();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { json } = await api("POST", `/v1/users/${user.id}/conversations`);
      for (let m = 0; m < i; m++)
        await api("POST", `/v1/conversations/${json.id}/messages`, { body: { role: "user", content: `m${m}` } });
      ids.push(json.id);
    }
    const counts = new Map(ids.map((id, i) => [id, i]));
    const pages: { ids: string[]; hasMore: boolean; total: number }[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=3&cursor=${encodeURIComponent(cursor)}` : "limit=3";
      const res = await api("GET", `/v1/users/${user.id}/conversations?${query}`);
      expect(res.status).toBe(200);
      for (const s of res.json.sessions) expect(s.messageCount).toBe(counts.get(s.id));
      pages.push({ ids: res.json.sessions.map((s: { id: string }) => s.id), hasMore: res.json.hasMore, total: res.json.total });
      expect(res.json.hasMore).toBe(res.json.nextCursor !== null);
      cursor = res.json.nextCursor;
    } while (cursor && pages.length < 10);
    expect(pages.map((p) => p.ids.length)).toEqual([3, 3, 1]);
    expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
    expect(pages.every((p) => p.total === 7)).toBe(true);
    // Newest activity first, each conversation exactly once.
    expect(pages.flatMap((p) => p.ids)).toEqual([...ids].reverse());
  });
});

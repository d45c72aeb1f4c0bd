import { describe, expect, it } from "vitest";
import { type Convo, type SearchHit, ValidationError } from "../src/index.js";
import { parseSearchQuery } from "../src/search/index.js";
import { closeSettled, engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";

describe("parseSearchQuery", () => {
  it("splits words from emoji, keeping joined emoji whole", () => {
    expect(parseSearchQuery("кот 🐱 и 👩‍💻")).toEqual({ words: "кот   и", symbols: ["🐱", "👩‍💻"] });
    expect(parseSearchQuery("🍕")).toEqual({ words: undefined, symbols: ["🍕"] });
  });
});

async function userSaying(convo: Convo, ...lines: string[]) {
  const { user } = await convo.users.create({});
  const c = await convo.conversations.create(user.id);
  for (const content of lines) await convo.messages.append(user.id, c.id, { role: "user", content });
  return { userId: user.id, conversationId: c.id };
}

describe.each(engines)("search on %s", (engine) => {
  it("finds Russian word forms, English stems and emoji, only in the user's own rows", async () => {
    const convo = await openTestConvo(engine);
    const me = await userSaying(
      convo,
      "Нарисуй кота в шляпе",
      "Стикер с котом и собакой 🐱",
      "Running in the park with my dogs",
      "Mixed: кот и cats together 🍕",
      "Ничего общего",
    );
    const stranger = await userSaying(convo, "У меня тоже кот, кота зовут Барсик 🐱", "I love running");

    // The first message titled the conversation, so "кот" also finds the conversation by its title.
    const texts = async (q: string) =>
      (await convo.search.query(me.userId, { q })).items.filter((h) => h.kind === "message").map((h) => h.snippet);
    const кот = await texts("кот");
    expect(кот).toHaveLength(3);
    expect(кот.join(" ")).toContain("<mark>кота</mark>");
    expect(кот.join(" ")).toContain("<mark>котом</mark>");
    expect(await texts("котом")).toHaveLength(3);
    expect(await texts("run")).toEqual(["<mark>Running</mark> in the park with my dogs"]);
    expect(await texts("dog")).toHaveLength(1);
    expect(await texts("cat")).toHaveLength(1);
    expect((await texts("🐱")).map((s) => s.includes("🐱"))).toEqual([true]);
    expect(await texts("кот 🍕")).toEqual(["Mixed: <mark>кот</mark> и cats together 🍕"]);
    expect(await texts("барсик")).toEqual([]);
    const hits = (await convo.search.query(me.userId, { q: "кот" })).items;
    expect(hits.every((h) => h.conversationId === me.conversationId)).toBe(true);
    expect(hits.map((h) => h.kind).sort()).toEqual(["conversation", "message", "message", "message"]);
    expect((await convo.search.query(stranger.userId, { q: "кот" })).items.map((h) => h.conversationId)).toEqual([
      stranger.conversationId,
      stranger.conversationId,
    ]);
  });

  it("searches titles and summaries, ranks, escapes HTML and pages by cursor", async () => {
    const convo = await openTestConvo(engine);
    const me = await userSaying(convo, "<b>пицца</b> с ананасами");
    await convo.conversations.rename(me.userId, me.conversationId, "Пицца на ужин");
    await convo.conversations.setSummary(me.userId, me.conversationId, "Пользователь выбирал пиццу.");
    for (let i = 0; i < 7; i++)
      await convo.messages.append(me.userId, me.conversationId, { role: "user", content: `пицца номер ${i}` });

    const first = await convo.search.query(me.userId, { q: "пицца", limit: 3 });
    expect(first.items[0]?.kind).toBe("conversation");
    expect(first.items[0]?.snippet).toContain("<mark>Пицца</mark> на ужин");
    const all = [...first.items];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await convo.search.query(me.userId, { q: "пицца", limit: 3, cursor });
      all.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(all).toHaveLength(9);
    expect(new Set(all.map((h) => h.messageId ?? h.conversationId)).size).toBe(9);
    const ranks = all.map((h) => h.rank);
    expect([...ranks].sort((a, b) => b - a)).toEqual(ranks);
    // The stored text is escaped: the only markup in a snippet is <mark>.
    expect(all.find((h) => h.snippet.includes("ананасами"))?.snippet).toBe("&lt;b&gt;<mark>пицца</mark>&lt;/b&gt; с ананасами");

    const other = await userSaying(convo, "пицца");
    await expect(convo.search.query(other.userId, { q: "пицца", cursor: first.nextCursor as string })).rejects.toMatchObject({
      code: "INVALID_CURSOR",
    });
    await expect(convo.search.query(me.userId, { q: "  " })).rejects.toBeInstanceOf(ValidationError);
    await expect(convo.search.query(me.userId, { q: "a\u0000b" })).rejects.toBeInstanceOf(ValidationError);
    expect((await convo.search.query(me.userId, { q: "the" })).items).toEqual([]);
  });
});

/** Every hit of a query, page by page (`limit` per page), as the API would hand them out. */
async function everyHit(
  convo: Convo,
  userId: string,
  q: string,
  options: { limit?: number; excludeConversationId?: string } = {},
) {
  const hits: SearchHit[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await convo.search.query(userId, {
      q,
      limit: options.limit ?? 2,
      cursor,
      excludeConversationId: options.excludeConversationId,
    });
    hits.push(...page.items);
    if (!page.nextCursor) return hits;
    cursor = page.nextCursor;
  }
}

/** The conversation's search watermark and how many of its messages are in the search index. */
async function indexState(convo: Convo, conversationId: string) {
  const [row] = await rawQuery<{ search_seq: number; last_seq: number; indexed: number }>(
    convo,
    `SELECT search_seq, last_seq, (SELECT count(*)::int FROM message_search s WHERE s.conversation_id = c.id) AS indexed
     FROM conversations c WHERE id = '${conversationId}'`,
  );
  return { searchSeq: Number(row?.search_seq), lastSeq: Number(row?.last_seq), indexed: Number(row?.indexed) };
}

const hitKey = (h: SearchHit) => `${h.kind}:${h.messageId ?? h.conversationId}`;

/**
 * The message hits of every page, after checking that the whole list holds no hit
 * twice and one conversation hit per matching conversation at most.
 */
async function messageHits(convo: Convo, userId: string, q: string, limit = 2) {
  const hits = await everyHit(convo, userId, q, { limit });
  expect(new Set(hits.map(hitKey)).size).toBe(hits.length);
  return hits.filter((h) => h.kind === "message");
}

describe.each(engines)("the search index off the append path on %s", (engine) => {
  it("finds a message of an open conversation on the fly, and the same hit once after close and indexing", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id, { title: "Кот в шляпе" });
    for (const content of ["Нарисуй кота 🐱", "Котом займёмся завтра", "Ничего общего"]) {
      await convo.messages.append(user.id, c.id, { role: "user", content });
    }
    await convo.messages.append(user.id, c.id, { role: "system", content: "Служебное: кот", noise: true });
    // A summary the app gave covers every message, so the close writes none (the hits stay the same).
    await convo.conversations.setSummary(user.id, c.id, "Про кота и шляпу");

    const open = await everyHit(convo, user.id, "кот");
    expect(open.map((h) => h.kind).sort()).toEqual(["conversation", "message", "message"]);
    expect(open.find((h) => h.kind === "message")?.snippet).toMatch(/<mark>(кота|Котом)<\/mark>/);
    expect(await indexState(convo, c.id)).toEqual({ searchSeq: 0, lastSeq: 4, indexed: 0 });

    await closeSettled(convo, user.id, c.id);
    expect(await everyHit(convo, user.id, "кот")).toEqual(open); // closed, not indexed yet
    expect(await convo.search.indexPending()).toEqual({ messages: 3, conversations: 1 }); // the noise message stays out
    expect(await indexState(convo, c.id)).toEqual({ searchSeq: 4, lastSeq: 4, indexed: 3 });
    const [noise] = await rawQuery<{ n: number }>(
      convo,
      `SELECT count(*)::int AS n FROM message_search s JOIN messages m ON m.id = s.message_id WHERE m.noise`,
    );
    expect(Number(noise?.n)).toBe(0);

    // The same hits from the index: same order, ids, ranks, snippets and times; each once.
    const indexed = await everyHit(convo, user.id, "кот");
    expect(indexed).toEqual(open);
    expect(new Set(indexed.map(hitKey)).size).toBe(indexed.length);
    expect(await everyHit(convo, user.id, "кот", { limit: 1 })).toEqual(open);
    expect((await everyHit(convo, user.id, "🐱")).map((h) => h.snippet)).toEqual(["Нарисуй кота 🐱"]);
    expect((await everyHit(convo, user.id, "кот 🐱")).map((h) => h.snippet)).toEqual(["Нарисуй <mark>кота</mark> 🐱"]);
    expect(await everyHit(convo, user.id, "кот", { excludeConversationId: c.id })).toEqual([]);
    expect(await convo.search.indexPending()).toEqual({ messages: 0, conversations: 0 });
  });

  it("finds a reopened conversation's messages once each, part from the index and part on the fly", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, c.id, { role: "user", content: "Первый кот" });
    await convo.messages.append(user.id, c.id, { role: "assistant", content: "Кота нарисую" });
    await closeSettled(convo, user.id, c.id);
    await convo.search.indexPending();
    // The close writes a summary in the background, which changes the conversation's own
    // hit; the message hits are compared, and every list is checked for doubles.
    const closed = await messageHits(convo, user.id, "кот");

    // Reopened (as a host may do in SQL): the title is now matched on the fly, the old messages still come from the index.
    await rawQuery(convo, `UPDATE conversations SET closed_at = NULL, close_reason = NULL WHERE id = '${c.id}'`);
    expect(await messageHits(convo, user.id, "кот")).toEqual(closed);
    await convo.messages.append(user.id, c.id, { role: "user", content: "Второй кот" });
    await convo.messages.append(user.id, c.id, { role: "user", content: "Третий котом" });
    expect(await indexState(convo, c.id)).toEqual({ searchSeq: 2, lastSeq: 4, indexed: 2 });
    const mixed = await messageHits(convo, user.id, "кот", 1);
    expect(mixed.map((h) => h.seq).sort()).toEqual([1, 2, 3, 4]);
    for (const old of closed) expect(mixed).toContainEqual(old);

    await closeSettled(convo, user.id, c.id);
    expect(await convo.search.indexPending()).toEqual({ messages: 2, conversations: 1 });
    expect(await indexState(convo, c.id)).toEqual({ searchSeq: 4, lastSeq: 4, indexed: 4 });
    expect(await messageHits(convo, user.id, "кот", 1)).toEqual(mixed);
  });

  it("indexes in bounded batches, a long conversation in part, and stays exact in between", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await convo.conversations.create(user.id);
      for (let j = 0; j < 5; j++) await convo.messages.append(user.id, c.id, { role: "user", content: `кот ${i}-${j}` });
      await closeSettled(convo, user.id, c.id);
      ids.push(c.id);
    }
    const unindexed = await messageHits(convo, user.id, "кот", 4);
    expect(unindexed).toHaveLength(15);

    // 4 seqs in one batch: the first conversation in part; nothing else moves.
    expect(await convo.search.indexPending({ messagesPerBatch: 4, maxBatches: 1 })).toEqual({ messages: 4, conversations: 0 });
    expect(await Promise.all(ids.map((id) => indexState(convo, id)))).toEqual([
      { searchSeq: 4, lastSeq: 5, indexed: 4 },
      { searchSeq: 0, lastSeq: 5, indexed: 0 },
      { searchSeq: 0, lastSeq: 5, indexed: 0 },
    ]);
    expect(await messageHits(convo, user.id, "кот", 4)).toEqual(unindexed);

    await expect(convo.search.indexPending({ messagesPerBatch: 0 })).rejects.toBeInstanceOf(ValidationError);
    expect(await convo.search.indexPending({ messagesPerBatch: 4 })).toEqual({ messages: 11, conversations: 3 });
    expect(await messageHits(convo, user.id, "кот", 4)).toEqual(unindexed);

    // A rolling summary appended to a closed conversation (noise) makes it due, and is never indexed.
    await convo.summaries.roll(user.id, ids[0] as string, 5);
    expect(await indexState(convo, ids[0] as string)).toEqual({ searchSeq: 5, lastSeq: 6, indexed: 5 });
    expect(await convo.search.indexPending()).toEqual({ messages: 0, conversations: 1 });
    expect(await indexState(convo, ids[0] as string)).toEqual({ searchSeq: 6, lastSeq: 6, indexed: 5 });
    expect(await messageHits(convo, user.id, "кот", 4)).toEqual(unindexed);
  });

  it("removes the search rows with their conversation: delete, retention sweep, erasure", async () => {
    const clock = testClock(new Date("2026-03-01T10:00:00Z"));
    const convo = await openTestConvo(engine, { clock: clock.now });
    const { user } = await convo.users.create({});
    const other = await userSaying(convo, "Чужой кот");
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await convo.conversations.create(user.id);
      await convo.messages.append(user.id, c.id, { role: "user", content: `кот номер ${i}` });
      await closeSettled(convo, user.id, c.id);
      made.push(c.id);
      clock.advance(40 * 24 * 60 * 60_000);
    }
    await closeSettled(convo, other.userId, other.conversationId);
    expect(await convo.search.indexPending()).toEqual({ messages: 4, conversations: 4 });
    const searchRows = async (userId: string) =>
      Number(
        (await rawQuery<{ n: number }>(convo, `SELECT count(*)::int AS n FROM message_search WHERE user_id = '${userId}'`))[0]?.n,
      );
    expect(await searchRows(user.id)).toBe(3);

    await convo.conversations.delete(user.id, made[2] as string);
    const [left] = await rawQuery<{ n: number }>(
      convo,
      `SELECT count(*)::int AS n FROM message_search WHERE conversation_id = '${made[2]}'`,
    );
    expect(Number(left?.n)).toBe(0);
    expect(await searchRows(user.id)).toBe(2);
    expect(await convo.sweeps.deleteExpired()).toBe(1); // the first, closed 120 days ago (retention 90)
    expect(await searchRows(user.id)).toBe(1);
    expect((await everyHit(convo, user.id, "кот")).filter((h) => h.kind === "message").map((h) => h.snippet)).toEqual([
      "<mark>кот</mark> номер 1",
    ]);

    const receipt = await convo.erasure.erase(user.id);
    expect(receipt.tables.message_search).toBe(1);
    expect(await searchRows(user.id)).toBe(0);
    expect(await searchRows(other.userId)).toBe(1);
    expect((await everyHit(convo, other.userId, "кот")).filter((h) => h.kind === "message")).toHaveLength(1);
  });

  it("keeps the literal history search (context.searchHistory) to the user's own messages, newest first", async () => {
    const convo = await openTestConvo(engine);
    const me = await userSaying(convo, "Кот 🐱 первый", "Ничего", "Второй 🐱");
    const later = await convo.conversations.create(me.userId);
    await convo.messages.append(me.userId, later.id, { role: "assistant", content: "Третий 🐱" });
    await convo.messages.append(me.userId, later.id, { role: "system", content: "Шум 🐱", noise: true });
    await userSaying(convo, "Чужой 🐱");
    const hits = await convo.context.searchHistory(me.userId, "🐱", { limit: 5 });
    expect(hits.map((h) => h.content)).toEqual(["Третий 🐱", "Второй 🐱", "Кот 🐱 первый"]);
    const outside = await convo.context.searchHistory(me.userId, "🐱", { limit: 5, excludeConversationId: later.id });
    expect(outside.map((h) => h.content)).toEqual(["Второй 🐱", "Кот 🐱 первый"]);
  });
});

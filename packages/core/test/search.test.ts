import { describe, expect, it } from "vitest";
import { type Convo, ValidationError } from "../src/index.js";
import { parseSearchQuery } from "../src/search/index.js";
import { engines, openTestConvo } from "./support/engines.js";

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

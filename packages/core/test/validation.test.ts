import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/index.js";
import { engines, openTestConvo, rawQuery } from "./support/engines.js";

describe.each(engines)("bad input on %s", (engine) => {
  it("gives a typed validation error naming the field and writes nothing", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id);
    const before = await rawQuery(convo, "SELECT * FROM conversations");

    const cases: [string, () => Promise<unknown>, string][] = [
      ["NUL", () => convo.messages.append(user.id, c.id, { role: "user", content: "a\u0000b" }), "content"],
      ["lone surrogate", () => convo.messages.append(user.id, c.id, { role: "user", content: "a\uD83Db" }), "content"],
      ["lone low surrogate", () => convo.messages.appendToCurrent(user.id, { role: "user", content: "\uDC00" }), "content"],
      ["31-character title", () => convo.conversations.rename(user.id, c.id, "x".repeat(31)), "title"],
      ["31-character title on create", () => convo.conversations.create(user.id, { title: "я".repeat(31) }), "title"],
      [
        "malformed conversation id",
        () => convo.messages.append(user.id, "not-a-uuid", { role: "user", content: "x" }),
        "conversationId",
      ],
      ["malformed user id", () => convo.conversations.list("1; DROP TABLE users"), "userId"],
      ["bad role", () => convo.messages.append(user.id, c.id, { role: "admin" as never, content: "x" }), "role"],
      ["wrong type", () => convo.messages.append(user.id, c.id, { role: "user", content: 42 as never }), "content"],
      [
        "NUL in parts",
        () => convo.messages.append(user.id, c.id, { role: "user", content: "x", parts: [{ a: "\u0000" }] }),
        "parts[0].a",
      ],
      ["NUL in profile key", () => convo.users.create({ profile: { "a\u0000": 1 } }), "profile"],
      ["bad limit", () => convo.conversations.list(user.id, { limit: 1000 }), "limit"],
      ["bad env", () => convo.conversations.create(user.id, { env: "prod; --" }), "env"],
    ];
    for (const [name, call, field] of cases) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).status, name).toBe(422);
      expect((error as ValidationError).details, name).toMatchObject({ field });
    }
    expect(await rawQuery(convo, "SELECT 1 FROM messages")).toHaveLength(0);
    expect(await rawQuery(convo, "SELECT * FROM conversations")).toEqual(before);
    expect(await rawQuery(convo, "SELECT 1 FROM users")).toHaveLength(1);
  });

  it("stores SQL and exotic text verbatim", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id);
    const texts = ["'); DROP TABLE messages; --", "Привет, мир! 👋🏽 👨‍👩‍👧", "\u200b\u202e RTL", "a\\nb $1 %s"];
    for (const content of texts) await convo.messages.append(user.id, c.id, { role: "user", content });
    const detail = await convo.conversations.get(user.id, c.id);
    expect(detail.messages.map((m) => m.content)).toEqual(texts);
    const title = `Ровно 30: ${"🐱".repeat(20)}`;
    expect([...title].length).toBe(30);
    expect((await convo.conversations.rename(user.id, c.id, title)).title).toBe(title);
  });
});

/**
 * The toolkit in an ordinary grammY bot, in-process and over HTTP, on every engine:
 * what each kind of update is stored as, ctx.convo (context, state, runs streamed into
 * the chat), and grammY sessions kept in Convo by the storage adapter.
 */

import type { Convo } from "@convo/core";
import { Api, Bot, type Context, type SessionFlavor, session } from "grammy";
import { describe, expect, onTestFinished, test } from "vitest";
import { engines, openTestConvo, rawQuery } from "../../core/test/support/engines.js";
import { startTestServer } from "../../server/test/support/server.js";
import { type ConvoFlavor, convoMiddleware, convoStorage, httpPort, localPort, streamToChat } from "../src/index.js";
import type { ConvoPort, PortRunEvent } from "../src/port/types.js";
import { FakeBotApi, type TgUser } from "./support/fake-bot-api.js";

type Ctx = Context & ConvoFlavor & SessionFlavor<{ count: number }>;
const anna: TgUser = { id: 480637186, first_name: "Аня", username: "anna", language_code: "ru" };
const RUNS = { models: { offline: { chunkDelayMs: 0 } } };

async function setup(engine: (typeof engines)[number], mode: "local" | "http"): Promise<{ convo: Convo; port: ConvoPort }> {
  if (mode === "local") {
    const convo = await openTestConvo(engine, { runs: RUNS });
    return { convo, port: localPort(convo) };
  }
  const server = await startTestServer(engine, { convoOptions: { runs: RUNS } });
  return { convo: server.convo, port: httpPort({ url: server.url, apiKey: server.adminKey }) };
}

/** A small bot: every update recorded; `/count` uses the session; `/ask …` answers with a run. */
function makeBot(fake: FakeBotApi, port: ConvoPort, seen: Array<Record<string, unknown>>) {
  const bot = new Bot<Ctx>(fake.token, { client: { apiRoot: fake.url }, botInfo: fake.botInfo as never });
  bot.use(session({ initial: () => ({ count: 0 }), storage: convoStorage({ port }) }));
  bot.use(convoMiddleware({ port, stream: { editIntervalMs: 0 } }));
  bot.command("count", async (ctx) => {
    ctx.session.count += 1;
    await ctx.convo.reply(`count ${ctx.session.count}`);
  });
  bot.command("ask", async (ctx) => {
    const { text, outcome } = await ctx.convo.run();
    seen.push({ answer: text, outcome });
  });
  bot.command("context", async (ctx) => {
    const context = await ctx.convo.context({ historyLimit: 50 });
    const state = await ctx.convo.state.update((doc) => ({ ...doc, visits: Number(doc.visits ?? 0) + 1 }));
    seen.push({ history: context.conversationHistory.map((m) => m.content), state: state.doc });
  });
  return bot;
}

function run(bot: Bot<Ctx>) {
  const polling = bot.start({ timeout: 30 });
  const stopBot = async () => {
    if (bot.isRunning()) await bot.stop();
    await polling;
  };
  onTestFinished(stopBot);
  return stopBot;
}

describe.each(engines)("the grammY toolkit on %s", (engine) => {
  describe.each(["local", "http"] as const)("Convo %s", (mode) => {
    test("records every kind of update as documented, maps the user, and gives handlers context and state", async () => {
      const fake = await FakeBotApi.start();
      onTestFinished(() => fake.close());
      const { convo, port } = await setup(engine, mode);
      const seen: Array<Record<string, unknown>> = [];
      run(makeBot(fake, port, seen));
      const send = async (update: object) => fake.processed(fake.push(update));

      const hello = fake.text(anna, "Привет");
      await send(hello);
      await send(fake.sticker(anna, "sticker-1", "🐱"));
      await send(fake.document(anna, "doc-1", "brief.pdf"));
      await send(fake.photo(anna, "photo-1", "мой кот"));
      await send(fake.edit(anna, hello.message.message_id, "Привет!"));
      await send(fake.pinned(anna));
      await send(fake.text(anna, "/context"));

      const user = await convo.users.getByExternalId(`tg:${anna.id}`);
      expect(user).toMatchObject({ displayName: "Аня", profile: { telegramId: anna.id, username: "anna", languageCode: "ru" } });
      const rows = await rawQuery<{ role: string; content: string; noise: boolean; parts: unknown; client_message_id: string }>(
        convo,
        "SELECT role, content, noise, parts, client_message_id FROM messages ORDER BY seq",
      );
      expect(rows.map(({ client_message_id: _id, ...m }) => m)).toEqual([
        { role: "user", content: "Привет", noise: false, parts: null },
        {
          role: "user",
          content: "🐱",
          noise: false,
          parts: [{ type: "sticker", fileId: "sticker-1", fileUniqueId: "u-sticker-1", emoji: "🐱", setName: null }],
        },
        {
          role: "user",
          content: "[document]",
          noise: false,
          parts: [
            { type: "document", fileId: "doc-1", fileUniqueId: "u-doc-1", fileName: "brief.pdf", mimeType: "application/pdf" },
          ],
        },
        {
          role: "user",
          content: "мой кот",
          noise: false,
          parts: [{ type: "photo", fileId: "photo-1", fileUniqueId: "u-photo-1-2", width: 1280, height: 1280 }],
        },
        {
          role: "user",
          content: "Привет!",
          noise: false,
          parts: [{ type: "edit", messageId: hello.message.message_id, editDate: expect.any(Number) }],
        },
        {
          role: "system",
          content: "[service: pinned_message]",
          noise: true,
          parts: [{ type: "service", kind: "pinned_message" }],
        },
        { role: "user", content: "/context", noise: false, parts: null },
      ]);
      expect(rows.every((m) => /^tg-update:\d+$/.test(m.client_message_id))).toBe(true);
      // The context leaves the service noise out; the state is the conversation's.
      expect(seen).toEqual([{ history: ["Привет", "🐱", "[document]", "мой кот", "Привет!", "/context"], state: { visits: 1 } }]);
    });

    test("grammY sessions live in Convo's conversation state and survive a restart; /ask streams a run into the chat", async () => {
      const fake = await FakeBotApi.start();
      onTestFinished(() => fake.close());
      const { convo, port } = await setup(engine, mode);
      const seen: Array<Record<string, unknown>> = [];
      const stopFirst = run(makeBot(fake, port, seen));
      const send = async (update: object) => fake.processed(fake.push(update));
      await send(fake.text(anna, "/count"));
      await send(fake.text(anna, "/count"));
      await stopFirst();
      run(makeBot(fake, port, seen));
      await send(fake.text(anna, "/count"));
      expect(fake.textsTo(anna.id)).toEqual(["count 1", "count 2", "count 3"]);
      const state = await rawQuery<{ external_id: string; doc: unknown }>(
        convo,
        "SELECT c.external_id, s.doc FROM conversation_states s JOIN conversations c ON c.id = s.conversation_id",
      );
      expect(state).toEqual([{ external_id: `grammy-session:${anna.id}`, doc: { session: { count: 3 } } }]);

      await send(fake.text(anna, "/ask Который час?"));
      const [answer] = seen;
      expect(answer).toMatchObject({ outcome: "done" });
      expect(fake.lastTextTo(anna.id)).toBe(answer?.answer);
      const stored = await rawQuery<{ content: string }>(
        convo,
        "SELECT content FROM messages WHERE role = 'assistant' AND run_id IS NOT NULL",
      );
      expect(stored).toEqual([{ content: answer?.answer }]);
    });
  });
});

describe("streaming a run into a chat", () => {
  async function* events(list: PortRunEvent[]) {
    for (const event of list) yield event;
  }

  test("edits at most once per interval, always shows the final text, and continues past 4,096 characters in a new message", async () => {
    const fake = await FakeBotApi.start();
    onTestFinished(() => fake.close());
    const api = new Api(fake.token, { apiRoot: fake.url });
    let now = 0;
    const deltas = ["Раз ", "два ", "три ", "четыре"].map((content, i) => ({ seq: i + 2, type: "delta", content }));
    // The clock moves 400 ms per delta; edits may come once per 1,000 ms.
    const timed = (async function* () {
      for (const event of deltas) {
        now += 400;
        yield event;
      }
      yield { seq: 6, type: "done", content: "Раз два три четыре" };
    })();
    const result = await streamToChat(api, anna.id, timed, { now: () => now });
    expect(result).toMatchObject({ text: "Раз два три четыре", outcome: "done", messageIds: [expect.any(Number)] });
    // sendMessage at 400 ms; the 800 ms delta is held; edit at 1,200 ms (1,000 ms later is 1,400: held); final edit.
    expect(fake.called("sendMessage").map((c) => c.params.text)).toEqual(["Раз "]);
    expect(fake.called("editMessageText").map((c) => c.params.text)).toEqual(["Раз два три четыре"]);
    expect(fake.lastTextTo(anna.id)).toBe("Раз два три четыре");

    // Long answers: Telegram's limit is 4,096 characters per message; no surrogate pair is cut.
    const long = `${"а".repeat(4095)}😀${"б".repeat(100)}`;
    const split = await streamToChat(
      api,
      42,
      events([
        { seq: 1, type: "delta", content: long },
        { seq: 2, type: "done", content: long },
      ]),
      {
        editIntervalMs: 0,
      },
    );
    expect(split.messageIds).toHaveLength(2);
    const texts = fake.textsTo(42);
    expect(texts.map((x) => x.length)).toEqual([4095, 102]);
    expect(texts.join("")).toBe(long);

    // A failed run shows what streamed and the error.
    const failed = await streamToChat(
      api,
      43,
      events([
        { seq: 1, type: "delta", content: "Начало" },
        { seq: 2, type: "error", content: "model unavailable", code: "MODEL_ERROR" },
      ]),
    );
    expect(failed.outcome).toBe("error");
    expect(fake.lastTextTo(43)).toBe("Начало\n\n⚠️ model unavailable");
  });
});

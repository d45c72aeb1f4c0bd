import { countTokens as cl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { countTokens as o200k } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { profileText, sessionLine } from "../src/context/service.js";
import { encodingFor } from "../src/context/tokens.js";
import { type Convo, extractiveSummary, type SummaryInput } from "../src/index.js";
import { engines, openTestConvo, rawQuery, testClock } from "./support/engines.js";
import { scriptedModel, textParts, untilEnd } from "./support/runs.js";

const MINUTE = 60_000;

/** A summarizer that records its calls and can be told to fail. */
function recordingSummarizer() {
  const calls: SummaryInput[] = [];
  let failuresLeft = 0;
  return {
    calls,
    failNext(n: number) {
      failuresLeft = n;
    },
    summarizer: async (input: SummaryInput) => {
      calls.push(input);
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error("model unavailable");
      }
      return extractiveSummary(input);
    },
  };
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const summaryOf = async (convo: Convo, userId: string, id: string) => (await convo.conversations.summary(userId, id)).summary;

describe("extractiveSummary", () => {
  it("keeps the goal and the key lines within 500 characters, and extends a previous summary", () => {
    const first = extractiveSummary({
      previous: null,
      messages: [
        { role: "user", content: "Хочу стикер с котом в шляпе" },
        { role: "assistant", content: "Какой стиль?" },
        { role: "user", content: "Аниме" },
      ],
    });
    expect(first).toBe("Goal: Хочу стикер с котом в шляпе\nKey points: Какой стиль?; Аниме");
    const next = extractiveSummary({ previous: first, messages: [{ role: "user", content: "Фон синий" }] });
    expect(next).toBe("Goal: Хочу стикер с котом в шляпе\nKey points: Какой стиль?; Аниме; Фон синий");
    const long = extractiveSummary({
      previous: null,
      messages: Array.from({ length: 40 }, (_, i) => ({ role: "user", content: `строка ${i} `.repeat(30) })),
    });
    expect([...long].length).toBeLessThanOrEqual(500);
  });
});

describe("encodingFor", () => {
  it("is exact for OpenAI models and an estimate otherwise", () => {
    expect(encodingFor("openai:gpt-4o-mini")).toEqual({ encoding: "o200k_base", exact: true });
    expect(encodingFor("gpt-4")).toEqual({ encoding: "cl100k_base", exact: true });
    expect(encodingFor("openai:gpt-5")).toEqual({ encoding: "o200k_base", exact: true });
    expect(encodingFor("anthropic:claude-sonnet-4-5")).toEqual({ encoding: "o200k_base", exact: false });
    expect(encodingFor(undefined)).toEqual({ encoding: "o200k_base", exact: false });
  });
});

describe.each(engines)("summaries on %s", (engine) => {
  it("writes a summary once per close, hands it to the next context, extends it after a reopen, retries a failure", async () => {
    const clock = testClock(new Date("2026-11-21T09:00:00Z"));
    const rec = recordingSummarizer();
    const convo = await openTestConvo(engine, { clock: clock.now, summaries: { summarizer: rec.summarizer } });
    const { user } = await convo.users.create({});
    const c1 = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, c1.id, { role: "user", content: "Хочу стикер с котом в шляпе" });
    await convo.messages.append(user.id, c1.id, { role: "assistant", content: "Какой стиль?" });
    await convo.messages.append(user.id, c1.id, { role: "user", content: "Аниме" });
    await convo.conversations.close(user.id, c1.id);
    const written = await until(
      () => summaryOf(convo, user.id, c1.id),
      (s) => s !== null,
    );
    expect(written).toBe("Goal: Хочу стикер с котом в шляпе\nKey points: Какой стиль?; Аниме");
    expect((await convo.sweeps.runAll()).summariesWritten).toBe(0);
    await convo.conversations.close(user.id, c1.id); // closing again changes nothing
    expect((await convo.sweeps.runAll()).summariesWritten).toBe(0);
    expect(rec.calls).toHaveLength(1);

    // The next conversation's context carries it.
    await convo.messages.appendToCurrent(user.id, { role: "user", content: "Привет снова" });
    const context = await convo.context.load(user.id);
    expect(context.sessionHistory.find((s) => s.id === c1.id)?.summary).toBe(written);

    // A reopened conversation (closed_at cleared) is extended with its new turns only.
    await rawQuery(convo, `UPDATE conversations SET closed_at = NULL, close_reason = NULL WHERE id = '${c1.id}'`);
    await convo.messages.append(user.id, c1.id, { role: "user", content: "Фон синий" });
    rec.failNext(1);
    const idle = await convo.conversations.create(user.id);
    await convo.messages.append(user.id, idle.id, { role: "user", content: "Просто вопрос" });
    clock.advance(31 * MINUTE);
    const swept = await convo.sweeps.runAll(); // closes both as idle, then summarizes: one fails
    expect(swept.closedInactive).toBeGreaterThanOrEqual(2);
    expect(swept.summaryFailures).toBe(1);
    const [warned] = await rawQuery<{ id: string; summary_warning: string; summary_attempts: number }>(
      convo,
      `SELECT id, summary_warning, summary_attempts FROM conversations WHERE summary_warning IS NOT NULL`,
    );
    expect(warned).toMatchObject({ summary_warning: "model unavailable", summary_attempts: 1 });
    expect((await convo.sweeps.runAll()).summaryFailures).toBe(0); // backing off: not retried yet
    clock.advance(2 * MINUTE);
    expect((await convo.sweeps.runAll()).summariesWritten).toBe(1);
    expect(await summaryOf(convo, user.id, c1.id)).toBe(
      "Goal: Хочу стикер с котом в шляпе\nKey points: Какой стиль?; Аниме; Фон синий",
    );
    const extension = rec.calls.find((call) => call.previous === written);
    expect(extension?.messages.map((m) => m.content)).toEqual(["Фон синий"]);
    const [cleared] = await rawQuery<{ n: number }>(
      convo,
      `SELECT count(*)::int AS n FROM conversations WHERE summary_warning IS NOT NULL OR summary_pending_at IS NOT NULL AND closed_at IS NOT NULL`,
    );
    expect(Number(cleared?.n)).toBe(0);
  });

  it("backfills conversations closed before summaries existed", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({});
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await convo.conversations.create(user.id);
      await convo.messages.append(user.id, c.id, { role: "user", content: `Вопрос номер ${i}` });
      ids.push(c.id);
    }
    // Closed the old way: no pending mark, no summary.
    await rawQuery(convo, `ALTER TABLE conversations DISABLE TRIGGER conversations_closed`);
    await rawQuery(convo, `UPDATE conversations SET closed_at = now(), close_reason = 'app'`);
    await rawQuery(convo, `ALTER TABLE conversations ENABLE TRIGGER conversations_closed`);
    expect((await convo.sweeps.runAll()).summariesWritten).toBe(0);
    const progress: number[] = [];
    const result = await convo.summaries.backfill({ batchSize: 2, onProgress: (p) => progress.push(p.seen) });
    expect(result).toEqual({ written: 3, failed: 0, seen: 3 });
    expect(progress).toEqual([2, 3]);
    for (const [i, id] of ids.entries()) expect(await summaryOf(convo, user.id, id)).toBe(`Goal: Вопрос номер ${i}`);
    expect((await convo.summaries.backfill()).seen).toBe(0);
  });
});

describe.each(engines)("context token budget on %s", (engine) => {
  it("fits the parts exactly into the budget of an OpenAI tokenizer, and the receipt adds up", async () => {
    const convo = await openTestConvo(engine);
    const { user } = await convo.users.create({ profile: { name: "Аня", likes: ["коты", "аниме"] } });
    for (let i = 0; i < 3; i++) {
      const old = await convo.conversations.create(user.id, { title: `Старый ${i}` });
      await convo.conversations.setSummary(user.id, old.id, `Пользователь просил стикер номер ${i} с котом 🐱`);
      await convo.conversations.close(user.id, old.id);
    }
    const c = await convo.conversations.create(user.id);
    for (let i = 0; i < 30; i++) {
      await convo.messages.append(user.id, c.id, {
        role: i % 2 ? "assistant" : "user",
        content: `Сообщение ${i}: ${"кот ".repeat(i % 7)}and some English words 🐱`,
      });
    }
    for (const [model, count] of [
      ["openai:gpt-4o-mini", o200k],
      ["openai:gpt-4", cl100k],
    ] as const) {
      for (const budget of [1, 60, 150, 400, 5000]) {
        const ctx = await convo.context.load(user.id, { conversationId: c.id, tokenBudget: budget, model, rollSummary: false });
        const receipt = ctx.budget!;
        expect(receipt.tokenizer.exact).toBe(true);
        const included = receipt.parts.filter((p) => p.included);
        expect(receipt.used).toBe(included.reduce((a, p) => a + p.tokens, 0));
        expect(receipt.used).toBeLessThanOrEqual(budget);
        // Every count is the model's own tokenizer's count of the part's text.
        const profile = receipt.parts.find((p) => p.kind === "profile");
        expect(profile?.tokens).toBe(count(profileText({ name: "Аня", likes: ["коты", "аниме"] }) as string));
        const all = await convo.messages.page(user.id, c.id, { limit: 100 });
        for (const part of receipt.parts.filter((p) => p.kind === "message")) {
          expect(part.tokens).toBe(count(all.items.find((m) => m.seq === part.seq)?.content as string));
        }
        for (const s of ctx.sessionHistory) {
          expect(receipt.parts.find((p) => p.kind === "session" && p.id === s.id)?.tokens).toBe(count(sessionLine(s)));
        }
        // What went in is what the context holds: the newest messages, contiguous.
        const seqs = ctx.conversationHistory.map((m) => m.seq);
        expect(seqs).toEqual(receipt.parts.filter((p) => p.kind === "message" && p.included).map((p) => p.seq));
        if (seqs.length > 0) expect(seqs.at(-1)).toBe(30);
        expect(receipt.omitted.messages).toBe(30 - seqs.length);
        if (budget === 5000) expect(receipt.omitted).toEqual({ profile: false, rollingSummary: false, messages: 0, sessions: 0 });
        if (budget === 1) expect(receipt.used).toBe(0);
      }
    }
    const estimate = await convo.context.load(user.id, {
      conversationId: c.id,
      tokenBudget: 100,
      model: "anthropic:claude-sonnet-4-5",
    });
    expect(estimate.budget?.tokenizer).toEqual({ encoding: "o200k_base", exact: false, model: "anthropic:claude-sonnet-4-5" });
    await expect(convo.context.load(user.id, { tokenBudget: 0 })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("lets a rolling summary stand in for older turns, extends it incrementally, and deletes nothing", async () => {
    const rec = recordingSummarizer();
    const convo = await openTestConvo(engine, { summaries: { summarizer: rec.summarizer } });
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id);
    const line = (i: number) => `Реплика номер ${i} про кота и его шляпу, которая очень нравится пользователю`;
    const say = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await convo.messages.append(user.id, c.id, { role: i % 2 ? "assistant" : "user", content: line(i) });
      }
    };
    await say(0, 40);
    const load = () => convo.context.load(user.id, { conversationId: c.id, tokenBudget: 400, model: "openai:gpt-4o" });
    const first = await load();
    expect(first.budget?.rolled).toBe(true);
    const rolling = first.rollingSummary!;
    expect(rolling.fromSeq).toBe(1);
    expect(first.conversationHistory[0]?.seq).toBe(rolling.toSeq + 1);
    expect(first.conversationHistory.at(-1)?.seq).toBe(40);
    expect(first.budget!.used).toBeLessThanOrEqual(400);
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]?.messages[0]?.content).toBe(line(0));

    // A few more turns fit beside it: no new roll.
    await say(40, 42);
    expect((await load()).budget?.rolled).toBe(false);
    expect(rec.calls).toHaveLength(1);

    // Many more: the summary is extended from where it stopped, with the previous one as its base.
    await say(42, 80);
    const later = await load();
    expect(later.budget?.rolled).toBe(true);
    expect(later.rollingSummary!.toSeq).toBeGreaterThan(rolling.toSeq);
    expect(rec.calls[1]?.previous).toBe(rolling.content);
    expect(rec.calls[1]?.messages[0]?.content).toBe(line(rolling.toSeq));

    // Nothing was deleted or rewritten: every turn is there, and both summaries too, flagged.
    const rows = await rawQuery<{ seq: number; content: string; noise: boolean; summary_to_seq: number | null }>(
      convo,
      `SELECT seq, content, noise, summary_to_seq FROM messages WHERE conversation_id = '${c.id}' ORDER BY seq`,
    );
    const turns = rows.filter((r) => r.summary_to_seq === null);
    expect(turns.map((r) => r.content)).toEqual(Array.from({ length: 80 }, (_, i) => line(i)));
    const summaries = rows.filter((r) => r.summary_to_seq !== null);
    expect(summaries.map((r) => Number(r.summary_to_seq))).toEqual([rolling.toSeq, later.rollingSummary!.toSeq]);
    expect(summaries.every((r) => r.noise)).toBe(true);
    // Ordinary history and search skip the summaries.
    expect(
      (await convo.context.load(user.id, { conversationId: c.id })).conversationHistory.every(
        (m) => !m.content.startsWith("Goal"),
      ),
    ).toBe(true);
    expect((await convo.conversations.summary(user.id, c.id)).messageCount).toBe(80);
  });

  it("fits a run's prompt into the runs' contextTokenBudget, with the rolling summary in the system message", async () => {
    const model = scriptedModel(textParts(["Хорошо"]));
    const rec = recordingSummarizer();
    const convo = await openTestConvo(engine, {
      summaries: { summarizer: rec.summarizer },
      runs: { contextTokenBudget: 300, models: { models: { "openai:gpt-4o-mini": model }, defaultModel: "openai:gpt-4o-mini" } },
    });
    const { user } = await convo.users.create({});
    const c = await convo.conversations.create(user.id);
    for (let i = 0; i < 40; i++) {
      await convo.messages.append(user.id, c.id, {
        role: i % 2 ? "assistant" : "user",
        content: `Реплика номер ${i} про кота и его шляпу, которая очень нравится пользователю`,
      });
    }
    const { run } = await convo.runs.start(user.id, c.id, { content: "Что дальше?" });
    expect((await untilEnd(convo, user.id, run.id)).at(-1)?.type).toBe("done");
    const prompt = model.doStreamCalls[0]?.prompt ?? [];
    const system = prompt
      .filter((m) => m.role === "system")
      .map((m) => String(m.content))
      .join("\n");
    expect(system).toContain("Earlier in this conversation");
    const turns = prompt.filter((m) => m.role === "user" || m.role === "assistant");
    expect(turns.length).toBeGreaterThan(1);
    expect(turns.length).toBeLessThan(41);
    expect(rec.calls).toHaveLength(1);
  });
});

import { stepCountIs, streamText, tool } from "ai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { OfflineModel } from "../src/index.js";
import { planAnswer, searchQuery, words } from "../src/runs/offline-model.js";

describe("the offline model", () => {
  it("splits text into words without cutting emoji or Cyrillic, and the pieces rebuild it", () => {
    const text = "  Привет,  мир! 👩‍👩‍👧 флаг 🇷🇺\nновая строка ";
    const pieces = words(text);
    expect(pieces.join("")).toBe(text);
    expect(pieces.length).toBeGreaterThan(4);
    for (const piece of pieces) expect(piece).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it("picks a search query: quoted text first, else the longest word that is not a trigger", () => {
    expect(searchQuery("Помнишь, что я говорил про «пиццу»?")).toBe("пиццу");
    expect(searchQuery("Do you remember the kubernetes outage?")).toBe("kubernetes");
  });

  it("is deterministic and streams reasoning then text through streamText", async () => {
    const model = new OfflineModel({ chunkDelayMs: 0 });
    const run = async () => {
      const result = streamText({ model, prompt: "Расскажи что-нибудь 🙂" });
      const parts: string[] = [];
      for await (const part of result.fullStream)
        if (part.type === "reasoning-delta" || part.type === "text-delta") parts.push(part.type);
      return { text: await result.text, reasoning: await result.reasoningText, first: parts[0] };
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.first).toBe("reasoning-delta");
    expect(a.text).toContain("«Расскажи что-нибудь 🙂»");
    expect(a.reasoning).toBe("Офлайн-режим: отвечаю по шаблону.");
  });

  it("calls a tool only when it is offered and allowed", () => {
    const prompt = [{ role: "user" as const, content: [{ type: "text" as const, text: "what time is it?" }] }];
    const tools = [{ type: "function" as const, name: "current_time", inputSchema: {} }];
    expect(planAnswer({ prompt, tools }).toolCall).toEqual({ name: "current_time", input: {} });
    expect(planAnswer({ prompt }).toolCall).toBeUndefined();
    expect(planAnswer({ prompt, tools, toolChoice: { type: "none" } }).toolCall).toBeUndefined();
  });

  it("stops streaming when aborted", async () => {
    const model = new OfflineModel({ chunkDelayMs: 20 });
    const controller = new AbortController();
    const result = streamText({
      model,
      prompt: "hello there, tell me a long story",
      abortSignal: controller.signal,
      tools: { noop: tool({ inputSchema: z.object({}), execute: async () => ({}) }) },
      stopWhen: stepCountIs(2),
    });
    setTimeout(() => controller.abort(), 30);
    const types: string[] = [];
    for await (const part of result.fullStream) types.push(part.type);
    expect(types.at(-1)).toBe("abort");
    expect(types).not.toContain("finish");
  });
});

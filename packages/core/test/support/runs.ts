/** Test doubles and helpers for runs: scripted models, a gate, event collection. */
import type { LanguageModelV3StreamPart, LanguageModelV3Usage } from "@ai-sdk/provider";
import { MockLanguageModelV3 } from "ai/test";
import type { Convo, RunEvent } from "../../src/index.js";

export const usage = (input = 11, output = 22): LanguageModelV3Usage => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

/** The stream parts of one model step: optional reasoning, then text in the given pieces. */
export function textParts(pieces: string[], options: { reasoning?: string; finish?: boolean } = {}): LanguageModelV3StreamPart[] {
  const parts: LanguageModelV3StreamPart[] = [{ type: "stream-start", warnings: [] }];
  if (options.reasoning) {
    parts.push(
      { type: "reasoning-start", id: "r" },
      { type: "reasoning-delta", id: "r", delta: options.reasoning },
      { type: "reasoning-end", id: "r" },
    );
  }
  parts.push({ type: "text-start", id: "t" });
  for (const piece of pieces) parts.push({ type: "text-delta", id: "t", delta: piece });
  parts.push({ type: "text-end", id: "t" });
  if (options.finish !== false) parts.push({ type: "finish", usage: usage(), finishReason: { unified: "stop", raw: "stop" } });
  return parts;
}

/** A promise with its resolver, for holding a model until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * A model whose stream is a script, one array per model call (step): parts, with
 * promises (a `gate` the test opens) or `pause`s between them where the stream waits.
 */
export type ScriptItem = LanguageModelV3StreamPart | Promise<void> | (() => Promise<void>);

/** A pause of `ms` in a script (started when the stream reaches it). */
export const pause = (ms: number) => () => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function scriptedModel(...steps: ScriptItem[][]): MockLanguageModelV3 {
  let call = 0;
  return new MockLanguageModelV3({
    doStream: async () => {
      const script = steps[Math.min(call++, steps.length - 1)] ?? [];
      let i = 0;
      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        async pull(controller) {
          for (;;) {
            const item = script[i++];
            if (item === undefined) return controller.close();
            if (typeof item === "function") await item();
            else if (item instanceof Promise) await item;
            else return controller.enqueue(item);
          }
        },
      });
      return { stream };
    },
  });
}

/** Every event of the run until its terminal event (follows live). */
export async function untilEnd(convo: Convo, userId: string, runId: string, after = 0): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of await convo.runs.follow(userId, runId, { after })) events.push(event);
  return events;
}

/** Waits until the run has stored an event of one of `types`; answers the events so far. */
export async function waitForEventType(convo: Convo, userId: string, runId: string, types: string[]): Promise<RunEvent[]> {
  const seen: RunEvent[] = [];
  let after = 0;
  for (let i = 0; i < 200; i++) {
    const page = await convo.runs.waitForEvents(userId, runId, { after, waitMs: 2_000 });
    seen.push(...page.events);
    after = page.nextAfter;
    if (page.events.some((e) => types.includes(e.type)) || page.finished) return seen;
  }
  throw new Error(`no ${types.join("/")} event arrived`);
}

export const deltaText = (events: RunEvent[]) =>
  events
    .filter((e) => e.type === "delta")
    .map((e) => e.content)
    .join("");

/** Sets up a user with an open conversation. */
export async function userWithConversation(convo: Convo) {
  const { user } = await convo.users.create({});
  const conversation = await convo.conversations.create(user.id);
  return { userId: user.id, conversationId: conversation.id };
}

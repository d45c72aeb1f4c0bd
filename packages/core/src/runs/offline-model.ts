/**
 * Convo's built-in offline model: a real LanguageModelV3 that needs no key and no
 * network, so a fresh install answers, streams and calls tools out of the box. It is
 * deterministic: the same prompt gives the same answer.
 *
 * It thinks first (a short reasoning step), then either answers, or — when the last
 * user message asks for the time ("time", "время", "который час") or for earlier
 * conversations ("history", "remember", "помнишь") and the tool is offered — calls
 * `current_time` / `search_history` and answers from the tool's result in the next
 * step. It answers in Russian when the user writes Cyrillic. Text is streamed word
 * by word with a small delay so streaming is visible; words are never split, so
 * emoji and Cyrillic arrive intact.
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3ToolResultOutput,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";

export interface OfflineModelOptions {
  /** Pause between streamed words (default 15 ms; 0 streams as fast as possible). */
  chunkDelayMs?: number;
}

type Lang = "en" | "ru";

interface Plan {
  reasoning: string;
  text: string;
  toolCall?: { name: string; input: Record<string, unknown> };
}

const WANTS_TIME = /\btime\b|врем|который час|сколько час/i;
const WANTS_HISTORY = /\bhistory\b|\bremember\b|помнишь|истори/i;
const TIME_ZONE = /\b([A-Z][A-Za-z]+\/[A-Za-z_]+(?:\/[A-Za-z_]+)?|UTC)\b/;
const STOP_WORDS = new Set(
  (
    "history search remember what when where which about that this with from have your were there they them then than " +
    "would could should please tell знаешь помнишь историю история истории поиск найди что когда где про это этот эта " +
    "было были как мне мы вы ты она они его её говорили обсуждали раньше"
  ).split(" "),
);

const textOf = (prompt: LanguageModelV3Prompt, index: number): string => {
  const message = prompt[index];
  if (message?.role !== "user") return "";
  return message.content.map((part) => (part.type === "text" ? part.text : "")).join("");
};

const outputValue = (output: LanguageModelV3ToolResultOutput): { ok: boolean; value: unknown } => {
  switch (output.type) {
    case "json":
    case "text":
      return { ok: true, value: output.value };
    case "error-json":
    case "error-text":
      return { ok: false, value: output.value };
    default:
      return { ok: false, value: output.type };
  }
};

/** The word of the message most worth searching for (deterministic). */
export function searchQuery(message: string): string {
  const quoted = /["«“]([^"»”]{2,80})["»”]/.exec(message);
  if (quoted?.[1]) return quoted[1].trim();
  const words = message.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? [];
  const candidates = words.filter((w) => !STOP_WORDS.has(w) && !WANTS_HISTORY.test(w));
  let best = "";
  for (const w of candidates) if (w.length > best.length) best = w;
  return best || words[words.length - 1] || message.trim().slice(0, 40);
}

function answerFromTool(lang: Lang, name: string, ok: boolean, value: unknown): string {
  if (!ok) {
    const why = typeof value === "string" ? value : JSON.stringify(value);
    return lang === "ru" ? `Инструмент ${name} не сработал: ${why}` : `The tool ${name} failed: ${why}`;
  }
  const v = (value ?? {}) as Record<string, unknown>;
  if (name === "current_time") {
    return lang === "ru" ? `Сейчас ${v.local} (${v.timeZone}). ⏰` : `It is ${v.local} (${v.timeZone}) now. ⏰`;
  }
  if (name === "search_history") {
    const hits = Array.isArray(v.hits) ? (v.hits as Record<string, unknown>[]) : [];
    if (hits.length === 0) {
      return lang === "ru"
        ? `В ваших прошлых разговорах ничего не нашлось по запросу «${v.query}».`
        : `I found nothing about "${v.query}" in your earlier conversations.`;
    }
    const lines = hits.slice(0, 3).map((h) => `- ${h.conversationTitle ?? "—"}: ${String(h.content).slice(0, 120)}`);
    return lang === "ru"
      ? `Нашлось сообщений в прошлых разговорах по запросу «${v.query}»: ${hits.length}.\n${lines.join("\n")}`
      : `I found ${hits.length} earlier message(s) about "${v.query}":\n${lines.join("\n")}`;
  }
  return lang === "ru" ? `Результат ${name}: ${JSON.stringify(value)}` : `Result of ${name}: ${JSON.stringify(value)}`;
}

/** What the model does for a prompt: deterministic in the prompt and the tools offered. */
export function planAnswer(options: LanguageModelV3CallOptions): Plan {
  const prompt = options.prompt;
  let lastUser = -1;
  for (let i = prompt.length - 1; i >= 0; i--) {
    if (prompt[i]?.role === "user") {
      lastUser = i;
      break;
    }
  }
  const said = lastUser >= 0 ? textOf(prompt, lastUser) : "";
  const lang: Lang = /[А-Яа-яЁё]/.test(said) ? "ru" : "en";
  const results = prompt.slice(lastUser + 1).flatMap((m) => (m.role === "tool" ? m.content : []));
  const toolResults = results.flatMap((part) => (part.type === "tool-result" ? [part] : []));

  if (toolResults.length > 0) {
    const texts = toolResults.map((r) => {
      const { ok, value } = outputValue(r.output);
      return answerFromTool(lang, r.toolName, ok, value);
    });
    return {
      reasoning: lang === "ru" ? "Инструмент ответил, формулирую ответ." : "The tool answered; composing the reply.",
      text: texts.join("\n\n"),
    };
  }

  const offered = new Set((options.tools ?? []).map((t) => t.name));
  const choice = options.toolChoice?.type ?? "auto";
  const mayCall = (name: string) =>
    offered.has(name) && choice !== "none" && (options.toolChoice?.type !== "tool" || options.toolChoice.toolName === name);
  if (WANTS_TIME.test(said) && mayCall("current_time")) {
    const zone = TIME_ZONE.exec(said)?.[1];
    return {
      reasoning:
        lang === "ru"
          ? "Пользователь спрашивает время — вызову current_time."
          : "The user asks for the time: I will call current_time.",
      text: "",
      toolCall: { name: "current_time", input: zone ? { timeZone: zone } : {} },
    };
  }
  if (WANTS_HISTORY.test(said) && mayCall("search_history")) {
    const query = searchQuery(said);
    return {
      reasoning:
        lang === "ru"
          ? `Пользователь спрашивает о прошлых разговорах — поищу «${query}».`
          : `The user asks about earlier conversations: I will search for "${query}".`,
      text: "",
      toolCall: { name: "search_history", input: { query } },
    };
  }
  const previous = prompt.filter((m) => m.role === "user" || m.role === "assistant").length - 1;
  return {
    reasoning: lang === "ru" ? "Офлайн-режим: отвечаю по шаблону." : "Offline mode: answering from a template.",
    text:
      lang === "ru"
        ? `Вы написали: «${said}». Я — встроенная офлайн-модель Convo 🤖: отвечаю без нейросети. ` +
          `Сообщений до этого в разговоре: ${previous}. Чтобы подключить настоящую модель, задайте CONVO_MODEL.`
        : `You said: "${said}". I am Convo's built-in offline model 🤖 and answer without a neural network. ` +
          `Messages before this one: ${previous}. Set CONVO_MODEL to use a real model.`,
  };
}

/** Splits text into words with their trailing spaces: no character is ever cut in two. */
export const words = (text: string): string[] => text.match(/\s*\S+\s*/gu) ?? (text ? [text] : []);

const promptChars = (prompt: LanguageModelV3Prompt) =>
  prompt.reduce((n, m) => n + (typeof m.content === "string" ? m.content.length : JSON.stringify(m.content).length), 0);

function usage(prompt: LanguageModelV3Prompt, plan: Plan): LanguageModelV3Usage {
  const input = Math.ceil(promptChars(prompt) / 4);
  const text = Math.ceil(plan.text.length / 4) + (plan.toolCall ? 8 : 0);
  const reasoning = Math.ceil(plan.reasoning.length / 4);
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: text + reasoning, text, reasoning },
  };
}

const finishReason = (plan: Plan): LanguageModelV3FinishReason =>
  plan.toolCall ? { unified: "tool-calls", raw: "tool_calls" } : { unified: "stop", raw: "stop" };

const abortError = (signal: AbortSignal) =>
  signal.reason instanceof Error ? signal.reason : new DOMException("The operation was aborted", "AbortError");

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The built-in `offline` model as an AI SDK model: runs use it when no other model is
 * configured, and tests and demos can use it anywhere a LanguageModelV3 goes.
 *
 * @example
 * import { streamText } from "ai";
 *
 * const result = streamText({ model: new OfflineModel({ chunkDelayMs: 0 }), prompt: "Привет!" });
 * console.log(await result.text); // deterministic: the same prompt, the same answer
 */
export class OfflineModel implements LanguageModelV3 {
  readonly specificationVersion = "v3";
  readonly provider = "convo";
  readonly modelId = "offline";
  readonly supportedUrls: Record<string, RegExp[]> = {};
  readonly #chunkDelayMs: number;
  #calls = 0;

  constructor(options: OfflineModelOptions = {}) {
    this.#chunkDelayMs = options.chunkDelayMs ?? 15;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const plan = planAnswer(options);
    const content: LanguageModelV3Content[] = [{ type: "reasoning", text: plan.reasoning }];
    if (plan.text) content.push({ type: "text", text: plan.text });
    if (plan.toolCall) {
      content.push({
        type: "tool-call",
        toolCallId: this.#callId(),
        toolName: plan.toolCall.name,
        input: JSON.stringify(plan.toolCall.input),
      });
    }
    return { content, finishReason: finishReason(plan), usage: usage(options.prompt, plan), warnings: [] };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const plan = planAnswer(options);
    const delay = this.#chunkDelayMs;
    const signal = options.abortSignal;
    const callId = this.#callId();
    async function* parts(): AsyncGenerator<LanguageModelV3StreamPart> {
      yield { type: "stream-start", warnings: [] };
      yield { type: "response-metadata", modelId: "offline" };
      yield { type: "reasoning-start", id: "reasoning-0" };
      for (const word of words(plan.reasoning)) {
        await sleep(delay, signal);
        yield { type: "reasoning-delta", id: "reasoning-0", delta: word };
      }
      yield { type: "reasoning-end", id: "reasoning-0" };
      if (plan.text) {
        yield { type: "text-start", id: "text-0" };
        for (const word of words(plan.text)) {
          await sleep(delay, signal);
          yield { type: "text-delta", id: "text-0", delta: word };
        }
        yield { type: "text-end", id: "text-0" };
      }
      if (plan.toolCall) {
        yield { type: "tool-call", toolCallId: callId, toolName: plan.toolCall.name, input: JSON.stringify(plan.toolCall.input) };
      }
      yield { type: "finish", usage: usage(options.prompt, plan), finishReason: finishReason(plan) };
    }
    const iterator = parts();
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await iterator.return(undefined);
      },
    });
    return { stream };
  }

  #callId(): string {
    this.#calls += 1;
    return `offline-call-${this.#calls}`;
  }
}

/** A summarizer backed by a language model through the AI SDK. */
import type { LanguageModelV3 } from "@ai-sdk/provider";
import { generateText } from "ai";
import { heuristicTitle } from "../conversations/index.js";
import { MAX_SUMMARY_LENGTH, type Summarizer } from "./types.js";

const SYSTEM = `You write the memory of a chat assistant. Summarize the conversation for the assistant's future self in at most ${MAX_SUMMARY_LENGTH} characters: the user's goal, decisions, facts about the user, open questions. Write in the conversation's language. Plain text, no preamble.`;

/**
 * Summarizes with `model`; an earlier summary is extended with the new turns, not
 * rewritten from all of them. A longer answer is cut at a word boundary.
 *
 * @example
 * const summarize = modelSummarizer(await registry.resolve("openai:gpt-4o-mini"));
 */
export function modelSummarizer(model: LanguageModelV3, options: { maxRetries?: number } = {}): Summarizer {
  return async ({ previous, messages, title }) => {
    const turns = messages.map((m) => `${m.role}: ${m.content}`).join("\n");
    const prompt = [
      title ? `Title: ${title}` : "",
      previous ? `Summary so far:\n${previous}\n\nNew turns:\n${turns}` : `Conversation:\n${turns}`,
    ]
      .filter(Boolean)
      .join("\n\n");
    const { text } = await generateText({ model, system: SYSTEM, prompt, maxRetries: options.maxRetries ?? 2 });
    const clean = text.trim();
    return [...clean].length > MAX_SUMMARY_LENGTH ? (heuristicTitle(clean, MAX_SUMMARY_LENGTH) ?? "") : clean;
  };
}

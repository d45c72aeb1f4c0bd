/**
 * Which model extracts the slots: Gemini through the AI SDK when
 * `GOOGLE_GENERATIVE_AI_API_KEY` is set, the offline model otherwise.
 */
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import type { LanguageModel } from "ai";
import { offlineSlotModel } from "./slots.js";

/**
 * The slot model the environment asks for: `GOOGLE_GENERATIVE_AI_API_KEY` (+ optional
 * `GOOGLE_GENERATIVE_AI_BASE_URL`, and `CONVO_BOT_MODEL`, default `gemini-2.5-flash`),
 * else the offline model.
 *
 * @example
 * createStickerBot({ token, port, model: slotModelFromEnv(process.env) });
 */
export function slotModelFromEnv(env: NodeJS.ProcessEnv = process.env): { model: LanguageModel; name: string } {
  const apiKey = env.GOOGLE_GENERATIVE_AI_API_KEY;
  if (!apiKey) return { model: offlineSlotModel(), name: "offline" };
  const google = createGoogleGenerativeAI({ apiKey, baseURL: env.GOOGLE_GENERATIVE_AI_BASE_URL || undefined });
  const id = env.CONVO_BOT_MODEL || "gemini-2.5-flash";
  return { model: google(id), name: `google:${id}` };
}

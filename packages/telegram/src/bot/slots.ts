/**
 * Slot extraction: the model reads the dialog and the user's free text and answers
 * the slots it found as a structured object (the AI SDK's `Output.object` with a Zod
 * schema) — Gemini when `GOOGLE_GENERATIVE_AI_API_KEY` is set, the offline model
 * below otherwise.
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamResult,
} from "@ai-sdk/provider";
import { generateText, type LanguageModel, Output } from "ai";
import { z } from "zod";
import type { PortDialog } from "../port/types.js";

/** The slots the model may answer; absent or null = not mentioned. */
export const SlotsSchema = z.object({
  goal: z.string().nullable().optional().describe("What the sticker is for"),
  style: z.string().nullable().optional().describe("Art style, e.g. аниме"),
  emotion: z.string().nullable().optional().describe("Emotion, e.g. радость"),
  pose: z.string().nullable().optional().describe("Pose or gesture"),
  stickerText: z.string().nullable().optional().describe("Text written on the sticker"),
  noText: z.boolean().nullable().optional().describe("True when the user wants no text on the sticker"),
});
export type Slots = z.infer<typeof SlotsSchema>;

/** The slot each step asks for (1 is the photo, 6 the confirmation). */
export const STEP_SLOTS: Record<number, keyof Slots | undefined> = {
  0: "goal",
  2: "style",
  3: "emotion",
  4: "pose",
  5: "stickerText",
};

const INSTRUCTIONS = `You help a user of a Telegram sticker bot describe their sticker.
From the user's last message extract only what they said: goal (what the sticker is for),
style, emotion, pose, stickerText (the text on the sticker) or noText (true when they want no text).
Answer in the user's language; leave out anything they did not say.`;

/** Limits a slot to what Convo stores (goal 2,000 characters, the others 200). */
function clip(value: string | null | undefined, max: number): string | null {
  if (value == null) return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : [...trimmed].slice(0, max).join("");
}

/**
 * Asks the model for the slots in `text`, given the dialog so far.
 *
 * @example
 * const slots = await extractSlots(offlineSlotModel(), dialog, "аниме, радостный");
 */
export async function extractSlots(model: LanguageModel, dialog: PortDialog, text: string): Promise<Slots> {
  const slot = STEP_SLOTS[dialog.currentStep] ?? "goal";
  const { output } = await generateText({
    model,
    // No retries: each failed call is one model error of the dialog (three end it).
    maxRetries: 0,
    system: `${INSTRUCTIONS}\nThe bot has just asked for: ${slot}.\nSTEP: ${slot}`,
    messages: [
      ...dialog.messages.slice(-10).map((m) => ({
        role: m.role === "user" ? ("user" as const) : ("assistant" as const),
        content: m.content,
      })),
      { role: "user" as const, content: text },
    ],
    output: Output.object({ schema: SlotsSchema }),
  });
  return {
    goal: clip(output.goal, 2000),
    style: clip(output.style, 200),
    emotion: clip(output.emotion, 200),
    pose: clip(output.pose, 200),
    stickerText: clip(output.stickerText, 200),
    noText: output.noText === true,
  };
}

const NO_TEXT = /^(без текста|нет|не нужно|не надо|no|none|no text|-)$/i;

/**
 * The offline model: no network, no key. It fills the slot the bot has just asked for
 * with the user's whole message ("без текста"/"нет" means no text), which is what a
 * user answering the bot's question usually means. A `LanguageModelV3`, so the bot
 * takes the same AI SDK path as with Gemini.
 *
 * @example
 * const slots = await extractSlots(offlineSlotModel(), dialog, "аниме"); // at step 2: { style: "аниме" }
 */
export function offlineSlotModel(): LanguageModelV3 {
  const answer = (options: LanguageModelV3CallOptions) => {
    const system = options.prompt.find((m) => m.role === "system");
    const slot = (system && typeof system.content === "string" ? /STEP: (\w+)/.exec(system.content)?.[1] : undefined) ?? "goal";
    const last = [...options.prompt].reverse().find((m) => m.role === "user");
    const said =
      last && Array.isArray(last.content)
        ? last.content
            .map((p) => (p.type === "text" ? p.text : ""))
            .join("")
            .trim()
        : "";
    const slots: Slots = slot === "stickerText" && NO_TEXT.test(said) ? { noText: true } : { [slot]: said };
    return JSON.stringify(slots);
  };
  const usage = {
    inputTokens: { total: 0, noCache: 0, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 0, text: 0, reasoning: 0 },
  };
  return {
    specificationVersion: "v3",
    provider: "convo",
    modelId: "offline-slots",
    supportedUrls: {},
    async doGenerate(options): Promise<LanguageModelV3GenerateResult> {
      return {
        content: [{ type: "text", text: answer(options) }],
        finishReason: { unified: "stop", raw: "stop" },
        usage,
        warnings: [],
      };
    },
    async doStream(options): Promise<LanguageModelV3StreamResult> {
      const text = answer(options);
      return {
        stream: new ReadableStream({
          start(controller) {
            controller.enqueue({ type: "stream-start", warnings: [] });
            controller.enqueue({ type: "text-start", id: "t" });
            controller.enqueue({ type: "text-delta", id: "t", delta: text });
            controller.enqueue({ type: "text-end", id: "t" });
            controller.enqueue({ type: "finish", usage, finishReason: { unified: "stop", raw: "stop" } });
            controller.close();
          },
        }),
      };
    },
  };
}

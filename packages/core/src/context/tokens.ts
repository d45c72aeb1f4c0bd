/**
 * Token counting for context budgets, with gpt-tokenizer (pure JavaScript, OpenAI's
 * BPE encodings). OpenAI models are counted exactly with their own encoding
 * (`o200k_base` for GPT-4o, GPT-4.1, GPT-5 and the o-series; `cl100k_base` for GPT-4
 * and GPT-3.5). Other providers publish no tokenizer for their current models, so
 * their text is counted with `o200k_base` and the count is marked an estimate: for
 * Russian and English chat text it lands within roughly ±20% of what Claude and Gemini
 * report — keep a margin when the budget is tight (docs/memory.md).
 * The encodings load on first use (a few MB), not at startup.
 */

export type Encoding = "o200k_base" | "cl100k_base";

export interface TokenCounter {
  encoding: Encoding;
  /** True when the count is the model's own (an OpenAI model); false for an estimate. */
  exact: boolean;
  /** The model the counter was chosen for, if one was named. */
  model: string | null;
  count(text: string): number;
}

const CL100K = /^(gpt-4(?!o|\.\d)|gpt-4-turbo|gpt-3\.5|text-embedding-(ada|3))/;
const O200K = /^(gpt-4o|gpt-4\.\d|gpt-5|o\d|chatgpt-4o|gpt-oss|codex)/;

/**
 * Which encoding a model id (`openai:gpt-4o-mini`, `gpt-4o`, `anthropic:…`) is counted with.
 *
 * @example
 * encodingFor("openai:gpt-4"); // { encoding: "cl100k_base", exact: true }
 */
export function encodingFor(model: string | undefined): { encoding: Encoding; exact: boolean } {
  if (!model) return { encoding: "o200k_base", exact: false };
  const colon = model.indexOf(":");
  const provider = colon < 0 ? undefined : model.slice(0, colon);
  const name = colon < 0 ? model : model.slice(colon + 1);
  if (provider === undefined || provider === "openai") {
    if (CL100K.test(name)) return { encoding: "cl100k_base", exact: true };
    if (O200K.test(name)) return { encoding: "o200k_base", exact: true };
  }
  return { encoding: "o200k_base", exact: false };
}

const loaded = new Map<Encoding, Promise<(text: string) => number>>();

function load(encoding: Encoding): Promise<(text: string) => number> {
  let counter = loaded.get(encoding);
  if (!counter) {
    counter =
      encoding === "cl100k_base"
        ? import("gpt-tokenizer/encoding/cl100k_base").then((m) => (text: string) => m.countTokens(text))
        : import("gpt-tokenizer/encoding/o200k_base").then((m) => (text: string) => m.countTokens(text));
    loaded.set(encoding, counter);
  }
  return counter;
}

/**
 * A token counter for a model (exact for OpenAI models, an `o200k_base` estimate for
 * others or when no model is named).
 *
 * @example
 * const counter = await tokenCounter("openai:gpt-4o-mini");
 * counter.count("Привет, мир"); // exact o200k_base count
 */
export async function tokenCounter(model?: string): Promise<TokenCounter> {
  const { encoding, exact } = encodingFor(model);
  const count = await load(encoding);
  return { encoding, exact, model: model ?? null, count };
}

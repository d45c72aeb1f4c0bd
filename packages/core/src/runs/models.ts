/**
 * Which language model a run uses. Model ids are `provider:model`
 * (`openai:gpt-4o-mini`, `google:gemini-2.0-flash`, `anthropic:claude-sonnet-4-5`),
 * `offline` (the built-in model, the default), or an id registered in `models`.
 * Providers are configured from the environment unless options say otherwise:
 *
 * - `OPENAI_API_KEY`, `OPENAI_BASE_URL` — OpenAI, or any OpenAI-compatible server
 *   (vLLM, Ollama, OpenRouter…) when a base URL is set (the key is then optional);
 * - `GOOGLE_GENERATIVE_AI_API_KEY` — Google Gemini;
 * - `ANTHROPIC_API_KEY` — Anthropic;
 * - `CONVO_MODEL` — the model of runs that name none (default `offline`).
 */
import type { LanguageModelV3 } from "@ai-sdk/provider";
import { ValidationError } from "../errors.js";
import { OfflineModel, type OfflineModelOptions } from "./offline-model.js";

export interface ModelsOptions {
  /** The model of runs that name none; default `CONVO_MODEL`, else `offline`. */
  defaultModel?: string;
  /**
   * Models by exact id, looked up before the providers: your own provider, a proxy, a
   * test double. @example `{ "mock": new MockLanguageModelV3({ … }) }`
   */
  models?: Record<string, LanguageModelV3>;
  /** OpenAI or an OpenAI-compatible server; default from `OPENAI_API_KEY` / `OPENAI_BASE_URL`. */
  openai?: { apiKey?: string; baseURL?: string };
  /** Google Gemini; default from `GOOGLE_GENERATIVE_AI_API_KEY`. */
  google?: { apiKey?: string };
  /** Anthropic; default from `ANTHROPIC_API_KEY`. */
  anthropic?: { apiKey?: string };
  /** The built-in offline model's pacing. */
  offline?: OfflineModelOptions;
  /** Where provider settings are read from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** Makes a provider's model; providers are imported on first use, so loading Convo loads none of them. */
type Factory = (name: string) => Promise<LanguageModelV3>;

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(:[A-Za-z0-9._:/@+-]{1,200})?$/;

const unknownModel = (id: string, why: string) =>
  new ValidationError(`model ${JSON.stringify(id)} ${why}`, { field: "model", model: id }, "UNKNOWN_MODEL");

export class ModelRegistry {
  readonly defaultModel: string;
  readonly #models: Record<string, LanguageModelV3>;
  readonly #providers = new Map<string, Factory | string>();
  readonly #offline: OfflineModel;
  /** Provider models made so far, by id (see `resolve`). */
  readonly #made = new Map<string, Promise<LanguageModelV3>>();

  constructor(options: ModelsOptions = {}) {
    const env = options.env ?? process.env;
    this.#models = { ...options.models };
    this.#offline = new OfflineModel(options.offline);

    const openaiKey = options.openai?.apiKey ?? env.OPENAI_API_KEY;
    const openaiBase = options.openai?.baseURL ?? env.OPENAI_BASE_URL;
    if (openaiBase) {
      // Any OpenAI-compatible server speaks Chat Completions; the OpenAI provider
      // would use the Responses API, which most of them lack.
      this.#providers.set("openai", async (name) => {
        const { createOpenAICompatible } = await import("@ai-sdk/openai-compatible");
        return createOpenAICompatible({ name: "openai", baseURL: openaiBase, apiKey: openaiKey, includeUsage: true }).chatModel(
          name,
        );
      });
    } else if (openaiKey) {
      this.#providers.set("openai", async (name) => (await import("@ai-sdk/openai")).createOpenAI({ apiKey: openaiKey })(name));
    } else {
      this.#providers.set("openai", "is not configured: set OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)");
    }

    const googleKey = options.google?.apiKey ?? env.GOOGLE_GENERATIVE_AI_API_KEY;
    if (googleKey) {
      this.#providers.set("google", async (name) =>
        (await import("@ai-sdk/google")).createGoogleGenerativeAI({ apiKey: googleKey })(name),
      );
    } else {
      this.#providers.set("google", "is not configured: set GOOGLE_GENERATIVE_AI_API_KEY");
    }

    const anthropicKey = options.anthropic?.apiKey ?? env.ANTHROPIC_API_KEY;
    if (anthropicKey) {
      this.#providers.set("anthropic", async (name) =>
        (await import("@ai-sdk/anthropic")).createAnthropic({ apiKey: anthropicKey })(name),
      );
    } else {
      this.#providers.set("anthropic", "is not configured: set ANTHROPIC_API_KEY");
    }

    this.defaultModel = options.defaultModel ?? (env.CONVO_MODEL || "offline");
  }

  /**
   * Checks a model id (default: the default model) and answers it normalised; throws
   * ValidationError `UNKNOWN_MODEL` for an id no provider serves, before anything is
   * stored.
   */
  check(id: unknown = this.defaultModel): string {
    if (typeof id !== "string" || id.length > 200 || !MODEL_ID.test(id)) {
      throw new ValidationError(
        "model must be an id like `offline` or `openai:gpt-4o-mini`",
        { field: "model" },
        "UNKNOWN_MODEL",
      );
    }
    this.#source(id);
    return id;
  }

  /**
   * The model for an id; throws ValidationError `UNKNOWN_MODEL` when none serves it.
   * A provider's model is made once per id and kept: an AI SDK model holds no state
   * between calls, and making one per run cost each run ~0.4 ms of CPU (the
   * OpenAI-compatible provider builds its response schemas per model).
   */
  resolve(id: string): Promise<LanguageModelV3> {
    const source = this.#source(id);
    if (typeof source !== "function") return Promise.resolve(source);
    let made = this.#made.get(id);
    if (!made) {
      made = source(id.slice(id.indexOf(":") + 1));
      this.#made.set(id, made);
      // A failed import is not kept: the next run tries again.
      made.catch(() => this.#made.delete(id));
    }
    return made;
  }

  /** A ready model, or the factory of the provider that serves `id`; throws when none does. */
  #source(id: string): LanguageModelV3 | Factory {
    const registered = this.#models[id];
    if (registered) return registered;
    if (id === "offline") return this.#offline;
    const colon = id.indexOf(":");
    if (colon < 0) throw unknownModel(id, "is not known: use `offline` or `provider:model` (openai, google, anthropic)");
    const provider = this.#providers.get(id.slice(0, colon));
    if (provider === undefined) throw unknownModel(id, "names an unknown provider (use openai, google or anthropic)");
    if (typeof provider === "string") throw unknownModel(id, provider);
    return provider;
  }
}

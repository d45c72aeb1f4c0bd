/**
 * The model of the run benchmarks: a real LanguageModelV3 that streams `tokens` text
 * deltas `intervalMs` apart, each carrying the absolute time it was emitted
 * (`⟨epoch ms with µs⟩`), so a client can tell how long a token took to reach it. It
 * can wait on a gate before streaming (W5 connects every follower first).
 */
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3StreamPart } from "@ai-sdk/provider";

/** Absolute time in ms with sub-ms precision, comparable across threads of one process. */
export const nowMs = () => performance.timeOrigin + performance.now();

/** The emit times found in a delta's text. */
export function markers(text: string): number[] {
  return [...text.matchAll(/⟨(\d+\.\d+)⟩/g)].map((m) => Number(m[1]));
}

export function benchModel(options: { tokens: number; intervalMs: number; gate?: () => Promise<void> }): LanguageModelV3 {
  const usage = {
    inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: options.tokens, text: options.tokens, reasoning: undefined },
  };
  return {
    specificationVersion: "v3",
    provider: "bench",
    modelId: "bench",
    supportedUrls: {},
    async doGenerate() {
      throw new Error("the bench model only streams");
    },
    async doStream(call: LanguageModelV3CallOptions) {
      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        async start(controller) {
          controller.enqueue({ type: "stream-start", warnings: [] });
          await options.gate?.();
          controller.enqueue({ type: "text-start", id: "t" });
          for (let i = 0; i < options.tokens; i++) {
            if (call.abortSignal?.aborted) break;
            if (i > 0 && options.intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
            controller.enqueue({ type: "text-delta", id: "t", delta: `⟨${nowMs().toFixed(3)}⟩ ` });
          }
          controller.enqueue({ type: "text-end", id: "t" });
          controller.enqueue({ type: "finish", finishReason: { unified: "stop", raw: "stop" }, usage });
          controller.close();
        },
      });
      return { stream };
    },
  } as LanguageModelV3;
}

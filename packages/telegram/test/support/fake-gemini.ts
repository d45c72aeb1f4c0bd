/**
 * A Gemini endpoint that always fails (HTTP 500 in Google's error shape), for the
 * "three model errors in a row" journey: the bot reaches it through the AI SDK's
 * Google provider, as it would reach Google.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import type { LanguageModel } from "ai";
import { onTestFinished } from "vitest";

export async function failingGemini(): Promise<{ model: LanguageModel; calls: () => number }> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    req.resume();
    res
      .writeHead(500, { "content-type": "application/json" })
      .end(JSON.stringify({ error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" } }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta`;
  const google = createGoogleGenerativeAI({ apiKey: "test-key", baseURL: url });
  return { model: google("gemini-2.5-flash"), calls: () => calls };
}

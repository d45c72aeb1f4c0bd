/**
 * The model of the HTTP run benchmark: an OpenAI-compatible Chat Completions server in
 * its own process, streaming the real wire format (`data: {chat.completion.chunk}` SSE
 * lines, a usage chunk, `data: [DONE]`) — `FAKE_TOKENS` text deltas `FAKE_INTERVAL_MS`
 * apart. `convo serve` reaches it as `openai:<any>` with `OPENAI_BASE_URL`, so a
 * benchmarked server runs its models as deployed: over HTTP through the AI SDK's
 * provider, in a process of its own. Plain JavaScript, started with `node`.
 *
 *   FAKE_TOKENS=10 FAKE_INTERVAL_MS=20 node bench/runs/fake-model-server.mjs
 *
 * Prints `listening on http://127.0.0.1:<port>` once it accepts requests.
 */
import http from "node:http";
import { serveForParent } from "../http/child-server.mjs";

const tokens = Number(process.env.FAKE_TOKENS ?? 10);
const intervalMs = Number(process.env.FAKE_INTERVAL_MS ?? 20);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let n = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    n += 1;
    const id = `chatcmpl-bench-${n}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (choices, extra = {}) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices, ...extra })}\n\n`;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.write(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
    for (let i = 0; i < tokens; i++) {
      if (i > 0 && intervalMs > 0) await sleep(intervalMs);
      if (res.destroyed) return;
      res.write(chunk([{ index: 0, delta: { content: `token${i} ` }, finish_reason: null }]));
    }
    res.write(chunk([{ index: 0, delta: {}, finish_reason: "stop" }]));
    res.write(chunk([], { usage: { prompt_tokens: 10, completion_tokens: tokens, total_tokens: 10 + tokens } }));
    res.end("data: [DONE]\n\n");
  });
});
serveForParent(server);

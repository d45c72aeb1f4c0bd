/**
 * A local fake of an OpenAI-compatible Chat Completions server speaking the real
 * streaming wire format: `data: {chat.completion.chunk}` SSE lines, tool calls as
 * `tool_calls` deltas with the arguments split across chunks, a usage chunk, then
 * `data: [DONE]`. The first request gets a tool call; a request whose last message
 * is a tool result gets a text answer.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeOpenAI {
  baseURL: string;
  requests: { headers: IncomingMessage["headers"]; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

export interface FakeOpenAIScript {
  toolName: string;
  /** The tool call's arguments as JSON text, sent in pieces. */
  argumentPieces: string[];
  /** The answer after the tool result, sent in pieces. */
  answerPieces: string[];
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });

export async function startFakeOpenAI(script: FakeOpenAIScript): Promise<FakeOpenAI> {
  const requests: FakeOpenAI["requests"] = [];
  let n = 0;
  const server: Server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req)) as { model: string; messages: { role: string }[] };
    requests.push({ headers: req.headers, body });
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
      return;
    }
    n += 1;
    const id = `chatcmpl-fake-${n}`;
    const created = 1_767_225_600;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices, ...extra })}\n\n`;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const lastRole = body.messages.at(-1)?.role;
    if (lastRole !== "tool") {
      res.write(
        chunk([
          {
            index: 0,
            delta: {
              role: "assistant",
              content: null,
              tool_calls: [{ index: 0, id: "call_fake_1", type: "function", function: { name: script.toolName, arguments: "" } }],
            },
            finish_reason: null,
          },
        ]),
      );
      for (const piece of script.argumentPieces) {
        res.write(
          chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, finish_reason: null }]),
        );
      }
      res.write(chunk([{ index: 0, delta: {}, finish_reason: "tool_calls" }]));
      res.write(chunk([], { usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 } }));
    } else {
      res.write(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
      for (const piece of script.answerPieces) {
        res.write(chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]));
      }
      res.write(chunk([{ index: 0, delta: {}, finish_reason: "stop" }]));
      res.write(chunk([], { usage: { prompt_tokens: 60, completion_tokens: 8, total_tokens: 68 } }));
    }
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

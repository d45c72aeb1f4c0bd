/**
 * Server-sent events over a Fastify reply, after Hono's `streamSSE`: `data` is split
 * into lines, CR/LF are refused in `event` and `id`, no-cache and keep-alive headers
 * are sent, a comment line keeps idle proxies from closing the stream, the client going
 * away aborts the stream's signal, and the stream always ends (the server ends every
 * open stream on shutdown).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Metrics } from "./plugins/metrics.js";

export interface SseMessage {
  event?: string;
  id?: string | number;
  data: string;
  retry?: number;
}

/** The wire text of one message. */
export function formatSse(message: SseMessage): string {
  let out = "";
  if (message.event !== undefined) {
    if (/[\r\n]/.test(message.event)) throw new Error("SSE event name must not contain CR or LF");
    out += `event: ${message.event}\n`;
  }
  if (message.id !== undefined) {
    const id = String(message.id);
    if (/[\r\n]/.test(id)) throw new Error("SSE id must not contain CR or LF");
    out += `id: ${id}\n`;
  }
  if (message.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(message.retry))}\n`;
  for (const line of message.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

export interface SseStream {
  /** Aborted when the client disconnects or the server shuts down. */
  readonly signal: AbortSignal;
  /** Writes a message; answers false when the stream is closed. Waits when the socket is full. */
  send(message: SseMessage): Promise<boolean>;
  /** Ends the stream. */
  close(): void;
}

/** Open streams, so shutdown can end them (they would otherwise hold `close()` forever). */
export class SseRegistry {
  readonly #open = new Set<(options?: { retryMs?: number }) => void>();
  constructor(private readonly metrics?: Metrics) {}

  get size(): number {
    return this.#open.size;
  }

  /** @internal */
  add(close: (options?: { retryMs?: number }) => void): () => void {
    this.#open.add(close);
    this.metrics?.sseStreams.set(this.#open.size);
    return () => {
      this.#open.delete(close);
      this.metrics?.sseStreams.set(this.#open.size);
    };
  }

  /** Ends every open stream; with `retryMs`, each first tells its client when to reconnect. */
  closeAll(options: { retryMs?: number } = {}): void {
    for (const close of [...this.#open]) close(options);
  }
}

/**
 * Takes over `reply` as an event stream and runs `body` with it; the stream is closed
 * when `body` settles (a throw is reported as an `error` event first).
 */
export async function streamSse(
  request: FastifyRequest,
  reply: FastifyReply,
  registry: SseRegistry,
  body: (stream: SseStream) => Promise<void>,
  options: { keepAliveMs?: number } = {},
): Promise<void> {
  const controller = new AbortController();
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "x-request-id": String(request.id),
  });
  raw.flushHeaders();
  let closed = false;
  const close = (options: { retryMs?: number } = {}) => {
    if (closed) return;
    closed = true;
    controller.abort();
    clearInterval(keepAlive);
    unregister();
    if (options.retryMs !== undefined && raw.writable) raw.write(`retry: ${Math.max(0, Math.floor(options.retryMs))}\n\n`);
    raw.end();
  };
  const unregister = registry.add(close);
  request.raw.on("close", () => close());
  raw.on("error", () => close());
  const keepAlive = setInterval(() => {
    if (!closed) raw.write(": keep-alive\n\n");
  }, options.keepAliveMs ?? 15_000);
  keepAlive.unref();

  const stream: SseStream = {
    signal: controller.signal,
    async send(message) {
      if (closed) return false;
      if (!raw.write(formatSse(message))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            raw.off("drain", done);
            controller.signal.removeEventListener("abort", done);
            resolve();
          };
          raw.once("drain", done);
          controller.signal.addEventListener("abort", done, { once: true });
        });
      }
      return !closed;
    },
    close,
  };
  try {
    await body(stream);
  } catch (error) {
    request.log.error({ err: error }, "event stream failed");
    if (!closed) {
      await stream.send({
        event: "error",
        data: JSON.stringify({ code: "STREAM_FAILED", message: "The stream failed; reconnect with Last-Event-ID" }),
      });
    }
  } finally {
    close();
  }
}

/** A keep-alive JSON client on node:http (lighter than fetch, so the client costs the server less CPU). */
import http from "node:http";

export interface JsonClient {
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: T }>;
  close(): void;
}

/** True for the keep-alive race: the server closed an idle socket just as it was reused. */
const staleSocket = (error: unknown) =>
  (error as NodeJS.ErrnoException).code === "ECONNRESET" || (error as Error).message === "socket hang up";

export function jsonClient(baseUrl: string, maxSockets: number): JsonClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);
  return {
    async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      try {
        return await send<T>(method, path, body, headers);
      } catch (error) {
        // The request never reached the server: send it once more on a fresh socket.
        if (staleSocket(error)) return send<T>(method, path, body, headers);
        throw error;
      }
    },
    close() {
      agent.destroy();
    },
  };

  function send<T>(method: string, path: string, body: unknown, headers: Record<string, string>) {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<{ status: number; json: T }>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers: payload
            ? { ...headers, "content-type": "application/json", "content-length": String(payload.length) }
            : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status >= 400) reject(new Error(`${method} ${path} → ${status}: ${text.slice(0, 300)}`));
            else resolve({ status, json: (text ? JSON.parse(text) : null) as T });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
}

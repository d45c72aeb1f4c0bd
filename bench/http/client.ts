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

export function jsonClient(baseUrl: string, maxSockets: number): JsonClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);
  return {
    request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
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
    },
    close() {
      agent.destroy();
    },
  };
}

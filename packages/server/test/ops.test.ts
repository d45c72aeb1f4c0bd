/** Operations: health, readiness, metrics, the OpenAPI document, request ids, rate limits. */
import { beforeAll, describe, expect, it } from "vitest";
import { engines, startTestServer, warmUp } from "./support/server.js";

/** Method and path of every route the app serves, from Fastify's route tree. */
function servedRoutes(tree: string): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!match) continue;
    const depth = [...(match[1] as string)].length / 4;
    stack.length = depth;
    stack.push(match[2] as string);
    for (const method of (match[3] ?? "").split(",").map((m) => m.trim())) {
      if (method && method !== "HEAD" && method !== "-") out.push({ method, path: stack.join("") });
    }
  }
  return out;
}

beforeAll(warmUp);

describe.each(engines)("operations on %s", (engine) => {
  it("answers /healthz and /readyz without credentials", async () => {
    const { api } = await startTestServer(engine);
    const health = await api("GET", "/healthz", { token: null });
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: "ok" });
    const ready = await api("GET", "/readyz", { token: null });
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: "ready", engine, migrations: "applied" });
  });

  it("exposes Prometheus metrics with route labels and database time", async () => {
    const { api, createUser } = await startTestServer(engine);
    const user = await createUser();
    await api("GET", `/v1/users/${user.id}`);
    await api("GET", "/v1/users/not-a-uuid");
    const metrics = await api("GET", "/metrics", { token: null });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(metrics.text).toMatch(
      /convo_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/users\/:userId"[^}]*status="200"/,
    );
    expect(metrics.text).toMatch(/convo_http_request_duration_seconds_count\{[^}]*route="\/v1\/users\/:userId"[^}]*status="400"/);
    expect(metrics.text).toMatch(/convo_http_request_duration_seconds_count\{[^}]*route="\/v1\/users"[^}]*status="201"/);
    expect(metrics.text).toMatch(/convo_db_unit_of_work_seconds_count\{[^}]*outcome="ok"/);
    expect(metrics.text).toContain("convo_sweep_runs_total");
  });

  it("describes every /v1 route in an OpenAPI 3.1 document and serves the docs page", async () => {
    const { api, server } = await startTestServer(engine);
    const res = await api("GET", "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    expect(res.json.openapi).toMatch(/^3\.1\.\d+$/);
    const routes = servedRoutes(server.app.printRoutes({ commonPrefix: false })).filter((r) => r.path.startsWith("/v1/"));
    expect(routes.length).toBeGreaterThanOrEqual(16);
    for (const { method, path } of routes) {
      const documented = res.json.paths[path.replace(/:(\w+)/g, "{$1}")];
      expect(documented, `${method} ${path} missing in /openapi.json`).toBeDefined();
      expect(documented[method.toLowerCase()], `${method} ${path}`).toBeDefined();
    }
    // Every operation is complete: a unique operationId, the statuses it really answers.
    type Op = {
      operationId?: string;
      security?: unknown[];
      requestBody?: unknown;
      responses: Record<string, { content?: Record<string, unknown> }>;
    };
    const ops = Object.entries(res.json.paths as Record<string, Record<string, Op>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const op = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)?.op as Op;
    expect(op("post", "/v1/users/{userId}/messages").operationId).toBe("postUsersByUserIdMessages");
    for (const { method, path, op: o } of ops) {
      if (o.requestBody) expect(o.responses["415"], `${method} ${path} declares 415`).toBeDefined();
    }
    for (const stream of ["/v1/runs/{runId}/stream", "/v1/conversations/{id}/stream"]) {
      const sse = op("get", stream);
      expect(Object.keys(sse.responses["200"]?.content ?? {})).toEqual(["text/event-stream"]);
      expect(sse.responses["400"]).toBeDefined();
      expect(sse.responses["404"]).toBeDefined();
    }
    for (const report of ["goals", "styles", "funnel", "statuses", "steps", "combos"]) {
      const analytics = op("get", `/v1/analytics/assistant/${report}`);
      expect(analytics.responses["404"], report).toBeDefined();
      expect(analytics.responses["200"]?.content?.["application/json"], report).toBeDefined();
    }
    // The probes need no credentials, and the document says so.
    expect(op("get", "/healthz").security).toEqual([]);
    expect(op("get", "/readyz").security).toEqual([]);
    expect(op("get", "/readyz").responses["503"]).toBeDefined();
    expect(op("get", "/v1/users/{userId}").security).toBeUndefined();
    expect(res.json.security).toEqual([{ bearer: [] }]);
    const docs = await api("GET", "/docs", { token: null });
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(docs.text.toLowerCase()).toContain("swagger");
  });

  it("echoes a given x-request-id and makes one up otherwise", async () => {
    const { api } = await startTestServer(engine);
    const given = await api("GET", "/healthz", { headers: { "x-request-id": "req-42.abc:1" } });
    expect(given.headers.get("x-request-id")).toBe("req-42.abc:1");
    const made = await api("GET", "/healthz");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const other = await api("GET", "/healthz");
    expect(other.headers.get("x-request-id")).not.toBe(made.headers.get("x-request-id"));
    // Header injection or oversized ids are replaced, not echoed.
    const odd = await api("GET", "/healthz", { headers: { "x-request-id": "x".repeat(500) } });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    // Errors carry it too.
    const failed = await api("GET", "/v1/conversations/nope", { headers: { "x-request-id": "req-err" } });
    expect(failed.status).toBe(400);
    expect(failed.headers.get("x-request-id")).toBe("req-err");
  });

  it("answers CORS preflights for the configured origins only", async () => {
    const { api } = await startTestServer(engine, { corsOrigins: ["https://app.example"] });
    const preflight = (origin: string) =>
      api("OPTIONS", "/v1/users", {
        token: null,
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
    const allowed = await preflight("https://app.example");
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const refused = await preflight("https://evil.example");
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    const read = await api("GET", "/healthz", { headers: { origin: "https://app.example" } });
    expect(read.headers.get("access-control-expose-headers")).toContain("etag");
  });

  it("rate-limits each end user (429) without touching others", async () => {
    const t = await startTestServer(engine, { rateLimitUser: 3 });
    const [a, b] = [await t.createUser(), await t.createUser()];
    const tokenA = await t.token(a.id);
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof t.api>> | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await t.api("GET", `/v1/users/${a.id}`, { token: tokenA });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(limited?.json.error.code).toBe("RATE_LIMITED");
    expect(limited?.json.error.message).toEqual(expect.any(String));
    expect(limited?.headers.get("retry-after")).toBeTruthy();
    // Another user and the admin key have budgets of their own.
    expect((await t.api("GET", `/v1/users/${b.id}`, { token: await t.token(b.id) })).status).toBe(200);
    expect((await t.api("GET", `/v1/users/${a.id}`)).status).toBe(200);
    // Operations endpoints are never limited.
    expect((await t.api("GET", "/healthz", { token: tokenA })).status).toBe(200);
  });
});

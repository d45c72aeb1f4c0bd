/** Liveness and readiness. */
import { ErrorBody, HealthBody, ReadyBody } from "@convo/protocol";
import type { App, RouteDeps } from "./types.js";

export async function opsRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  app.get(
    "/healthz",
    {
      config: { public: true },
      schema: { tags: ["operations"], summary: "The process is up (no credentials needed)", response: { 200: HealthBody } },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      config: { public: true },
      schema: {
        tags: ["operations"],
        summary: "The database answers and migrations are applied (no credentials needed; 503 while the database is away)",
        response: { 200: ReadyBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      try {
        await Promise.race([
          convo.store.engine.ping(),
          new Promise((_, reject) => setTimeout(() => reject(new Error("database ping timed out")), 2_000).unref()),
        ]);
        return { status: "ready" as const, engine: convo.store.engine.kind, migrations: "applied" as const };
      } catch (error) {
        request.log.warn({ err: error }, "readiness check failed");
        return reply.status(503).send({ error: { code: "DATABASE_UNAVAILABLE", message: "The database does not answer" } });
      }
    },
  );
}

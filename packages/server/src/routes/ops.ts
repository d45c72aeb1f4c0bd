/** Liveness and readiness. */
import type { App, RouteDeps } from "./types.js";

export async function opsRoutes(app: App, { convo }: RouteDeps): Promise<void> {
  app.get("/healthz", { schema: { tags: ["operations"], summary: "The process is up" } }, async () => ({ status: "ok" }));

  app.get(
    "/readyz",
    { schema: { tags: ["operations"], summary: "The database answers and migrations are applied (they run before listening)" } },
    async (request, reply) => {
      try {
        await Promise.race([
          convo.store.engine.ping(),
          new Promise((_, reject) => setTimeout(() => reject(new Error("database ping timed out")), 2_000).unref()),
        ]);
        return { status: "ready", engine: convo.store.engine.kind, migrations: "applied" };
      } catch (error) {
        request.log.warn({ err: error }, "readiness check failed");
        return reply.status(503).send({ error: { code: "DATABASE_UNAVAILABLE", message: "The database does not answer" } });
      }
    },
  );
}

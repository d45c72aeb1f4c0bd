/**
 * The web app at `/`: the files `@convo/web` built, with the app's `index.html` for
 * every other GET that accepts HTML (its client-side routes, `/c/<id>`, `/analytics`).
 * Registered outside `/v1`, so the API's auth and rate limits never apply to it, and
 * the API's own paths (`/v1`, `/docs`, `/openapi.json`, `/healthz`, `/readyz`,
 * `/metrics`) keep their JSON 404.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

const API_PATHS = /^\/(v1|docs|openapi\.json|healthz|readyz|metrics)(\/|\?|$)/;

export interface WebOptions {
  /** The built app's directory (`@convo/web`'s `dist/`). */
  root: string;
}

/** Whether a request is a browser navigation to one of the app's client-side routes. */
export function isAppNavigation(method: string, url: string, accept: string | undefined): boolean {
  return (method === "GET" || method === "HEAD") && !API_PATHS.test(url) && (accept ?? "").includes("text/html");
}

/**
 * Serves the app; answers false (and serves nothing) when it was not built, so the
 * API still starts from a checkout that skipped the build.
 */
export async function registerWeb(app: FastifyInstance, options: WebOptions): Promise<boolean> {
  if (!existsSync(join(options.root, "index.html"))) {
    app.log.warn(`The web app is not built (${options.root}): run npm run build -w @convo/web`);
    return false;
  }
  await app.register(fastifyStatic, {
    root: options.root,
    // index.html must be revalidated (it names the current bundles); the hashed
    // bundles under /assets never change.
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header("cache-control", path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
    },
    // Keeps /docs (swagger-ui registers @fastify/static too) and the API apart.
    decorateReply: true,
    wildcard: true,
    index: ["index.html"],
    schemaHide: true,
  });
  return true;
}

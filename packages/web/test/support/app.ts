/**
 * A real `convo serve` (spawned, serving the built web app) on PGlite or PostgreSQL,
 * with an admin key and a JWT secret, seeded before it starts; and Debian's Chromium
 * driven by playwright-core, with axe-core injected from the package's own source.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Convo, openConvo } from "@convo/core";
import { ApiKeysService } from "@convo/core/internal";
import axe from "axe-core";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { dropSchema, type EngineName } from "../../../core/test/support/engines.js";
import { mintToken } from "../../../server/src/auth/tokens.js";
import { cleanEnv, type Spawned, serveConvo, stop } from "../../../server/test/support/cli.js";

export { CHROMIUM, launchChromium } from "../../../server/test/support/chromium.js";

const JWT_SECRET = "web-test-secret-that-is-long-enough-32";

export interface AppServer {
  url: string;
  /** The admin key made before start ("" on an open server). */
  adminKey: string;
  token(userId: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Seeds the database with `seed` (Convo opened in this process), then starts
 * `convo serve` on it: with an admin key and a JWT secret, or `open` (nothing
 * configured, loopback only). The process is stopped and its data dropped by `close()`.
 */
export async function startAppServer(
  engine: EngineName,
  seed: (convo: Convo) => Promise<void>,
  options: { env?: Record<string, string>; open?: boolean } = {},
): Promise<AppServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "convo-web-"));
  const schema = `web_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const where = engine === "postgres" ? { databaseUrl: process.env.TEST_DATABASE_URL as string, schema } : { dataDir };
  const convo = await openConvo(where);
  let adminKey = "";
  try {
    if (!options.open) adminKey = (await new ApiKeysService(convo.store).create("web-test")).key;
    await seed(convo);
  } finally {
    await convo.close();
  }
  const args =
    engine === "postgres" ? ["--database-url", where.databaseUrl as string, "--schema", schema] : ["--data-dir", dataDir];
  let server: Spawned & { url: string };
  server = await serveConvo(
    ["--port", "0", "--sweep-interval", "0", ...args],
    cleanEnv({ ...(options.open ? {} : { CONVO_JWT_SECRET: JWT_SECRET }), ...options.env }),
  );
  return {
    url: server.url,
    adminKey,
    token: (userId) => mintToken(JWT_SECRET, userId),
    async close() {
      await stop(server);
      if (engine === "postgres") await dropSchema("postgres", schema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs SQL on an open Convo (seeding volumes the API would take minutes to create). */
export async function execute(convo: Convo, text: string): Promise<void> {
  await convo.store.engine.db.execute(sql.raw(text));
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => "axe" in window);
  if (!loaded) await page.addScriptTag({ content: axe.source });
  const violations = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected into the page at run time
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    // biome-ignore lint/suspicious/noExplicitAny: axe's result shape
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      // biome-ignore lint/suspicious/noExplicitAny: axe's result shape
      nodes: v.nodes.map((n: any) => n.target.join(" ")),
    }));
  });
  return (violations as AxeViolation[]).filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Screenshots go to docs/screenshots (taken on one engine: the screens are the same). */
export const SCREENSHOTS = new URL("../../../../docs/screenshots/", import.meta.url);

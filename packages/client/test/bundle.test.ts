/**
 * The client as a browser gets it: bundled by esbuild (minified, ESM, browser
 * platform) with its dependencies. It must hold no server, database or provider code,
 * and no Zod (the protocol is imported for types only). Its min+gzip size is printed
 * and checked against the 15 kB target (docs/client.md records the figure).
 */
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/** The client bundled for a browser page. */
export async function bundleClient(options: { format?: "esm" | "iife"; globalName?: string } = {}) {
  const result = await build({
    entryPoints: [new URL("../src/index.ts", import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: options.format ?? "esm",
    globalName: options.globalName,
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    // The workspace packages resolve to their sources, as an app's bundler would with the built dist.
    conditions: ["@convo/source"],
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

describe("@convo/client bundle", () => {
  it("holds no server, database, provider or Zod code, and is under 15 kB min+gzip", async () => {
    const { code, inputs } = await bundleClient();
    const forbidden = inputs.filter((path) =>
      /packages\/(core|server)\/|node_modules\/(zod|drizzle-orm|@electric-sql|pg|fastify|ai|@ai-sdk|jose)\//.test(path),
    );
    expect(forbidden).toEqual([]);
    expect(inputs.some((path) => path.includes("packages/client/src/"))).toBe(true);
    for (const word of ["pglite", "drizzle", "fastify", "SELECT ", "zod"]) expect(code).not.toContain(word);
    const bytes = Buffer.byteLength(code);
    const gzipped = gzipSync(code, { level: 9 }).byteLength;
    console.log(`@convo/client bundle: ${bytes} B minified, ${gzipped} B min+gzip (${inputs.length} inputs)`);
    expect(gzipped).toBeLessThan(15 * 1024);
  });
});

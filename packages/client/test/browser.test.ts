import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gate, type ScriptItem, scriptedModel, textParts } from "../../core/test/support/runs.js";
import { launchChromium } from "../../server/test/support/chromium.js";
import { userAndConversation } from "../../server/test/support/runs-http.js";
import { engines, startTestServer, warmUp } from "../../server/test/support/server.js";

let browser: Browser | undefined;
let script = "";

beforeAll(async () => {
  await warmUp();
  const bundled = await build({
    entryPoints: [new URL("./support/page.ts", import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    conditions: ["@convo/source"],
  });
  script = bundled.outputFiles[0]!.text;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe.each(engines)("@convo/client in Chromium on %s", (engine) => {
  it("resumes a run after the page reloads mid-run; the answer completes once", async () => {
    const release = gate();
    const pieces = ["Раз, ", "два, ", "три, ", "четыре, ", "пять."];
    const steps: ScriptItem[] = textParts(pieces);
    steps.splice(4, 0, release.promise); // held after "Раз, два, "
    const server = await startTestServer(engine, {
      convoOptions: {
        runs: { maxRetries: 0, models: { env: {}, models: { mock: scriptedModel(steps) }, defaultModel: "mock" } },
      },
    });
    const { userId, conversationId } = await userAndConversation(server.api);
    const token = await server.token(userId);

    const page = await browser!.newPage();
    try {
      // The page is served from the API's own origin, so no CORS is involved.
      const html = `<!doctype html><meta charset="utf-8"><body><pre id="answer"></pre><pre id="log"></pre><script>${script}</script></body>`;
      await page.route(`${server.url}/app`, (route) => route.fulfill({ contentType: "text/html", body: html }));
      await page.goto(`${server.url}/app#token=${token}&conversation=${conversationId}`);
      await page.waitForSelector("body[data-ready]", { state: "attached" });
      void page.evaluate("startRun('Считай до пяти')").catch(() => {}); // the reload interrupts it
      await page.waitForFunction(`document.getElementById("answer").textContent === "Раз, два, "`);

      await page.reload();
      await page.waitForSelector("body[data-ready]", { state: "attached" });
      // The pending run is replayed from its start into the fresh page, then goes on.
      await page.waitForFunction(`document.getElementById("answer").textContent === "Раз, два, "`);
      release.open();
      await page.waitForSelector("body[data-status]", { state: "attached" });

      const runs = await server.api("GET", `/v1/conversations/${conversationId}/runs`);
      const run = runs.json.runs[0];
      expect(runs.json.runs).toHaveLength(1);
      expect(run.status).toBe("done");
      expect(await page.textContent("#answer")).toBe(pieces.join(""));
      expect(await page.textContent("#log")).toBe(`done ${run.id}\n`);
      expect(await page.evaluate(`localStorage.getItem("convo-test")`)).toBe("{}");
      const messages = await server.api("GET", `/v1/conversations/${conversationId}/messages`);
      expect(messages.json.messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
        ["user", "Считай до пяти"],
        ["assistant", pieces.join("")],
      ]);
    } finally {
      await page.close();
    }
  });
});

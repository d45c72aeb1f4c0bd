import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gate, type ScriptItem, scriptedModel, textParts } from "../../core/test/support/runs.js";
import { launchChromium } from "./support/chromium.js";
import { userAndConversation } from "./support/runs-http.js";
import { engines, startTestServer, warmUp } from "./support/server.js";

let browser: Browser | undefined;
let script = "";

beforeAll(async () => {
  await warmUp();
  const bundled = await build({
    entryPoints: [new URL("./support/use-chat-page.js", import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    define: { "process.env.NODE_ENV": '"production"' },
  });
  script = bundled.outputFiles[0]!.text;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe.each(engines)("useChat in Chromium on %s", (engine) => {
  it("resumes the answer after a reload mid-run: one user message, one answer, nothing lost", async () => {
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
    const answer = `document.querySelector('[data-role="assistant"]')?.textContent`;

    const page = await browser!.newPage();
    try {
      const html = `<!doctype html><meta charset="utf-8"><body><div id="root"></div><script>${script}</script></body>`;
      await page.route(`${server.url}/app`, (route) => route.fulfill({ contentType: "text/html", body: html }));
      await page.goto(`${server.url}/app#api=${server.url}&token=${token}&conversation=${conversationId}`);
      await page.waitForSelector("body[data-status=ready]", { state: "attached" });
      await page.evaluate(`void window.send("Считай до пяти")`); // resolves only when the answer ends
      await page.waitForFunction(`${answer} === "Раз, два, "`);

      await page.reload();
      // On mount: the stored user message, then the running run replayed from its start.
      await page.waitForFunction(`${answer} === "Раз, два, "`);
      release.open();
      await page.waitForFunction(`${answer} === ${JSON.stringify(pieces.join(""))}`);
      await page.waitForSelector("body[data-status=ready]", { state: "attached" });

      const run = (await server.api("GET", `/v1/conversations/${conversationId}/runs`)).json.runs[0];
      expect(run.status).toBe("done");
      const shown = await page.$$eval("p", (nodes) =>
        nodes.map((n) => [n.getAttribute("data-role"), n.getAttribute("data-id"), n.textContent]),
      );
      expect(shown.map(([role]) => role)).toEqual(["user", "assistant"]);
      expect(shown[1]).toEqual(["assistant", run.id, pieces.join("")]);
      const stored = await server.api("GET", `/v1/conversations/${conversationId}/messages`);
      expect(stored.json.messages.map((m: { role: string; content: string }) => [m.role, m.content])).toEqual([
        ["user", "Считай до пяти"],
        ["assistant", pieces.join("")],
      ]);
    } finally {
      await page.close();
    }
  });
});

/**
 * Every package installs from its packed tarball: `npm pack` each one, install the
 * tarballs into a scratch project outside the workspace, run a consumer with plain
 * `node` (no tsx, no source condition) and type-check it with `tsc`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const PACKAGES = ["protocol", "core", "telegram", "server", "client"];

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });

describe("packed packages", () => {
  const scratch = mkdtempSync(join(tmpdir(), "convo-pack-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("install from tarballs, run under plain node and type-check for a consumer", { timeout: 300_000 }, () => {
    const tarballs = PACKAGES.map((name) => {
      const out = run("npm", ["pack", "--json", "--pack-destination", scratch], join(root, "packages", name));
      const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
      // Built JavaScript and types ship; tests do not.
      expect(info?.files.some((f) => f.path === "dist/index.js")).toBe(true);
      expect(info?.files.some((f) => f.path === "dist/index.d.ts")).toBe(true);
      expect(info?.files.some((f) => f.path.startsWith("test/"))).toBe(false);
      return join(scratch, info!.filename);
    });
    // The web app ships built (the server serves its dist/), with no run-time dependencies.
    const [web] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", scratch], join(root, "packages", "web"))) as {
      filename: string;
      files: { path: string }[];
    }[];
    expect(web?.files.some((f) => f.path === "dist/index.html")).toBe(true);
    expect(web?.files.some((f) => f.path.startsWith("src/") || f.path.startsWith("test/"))).toBe(false);
    tarballs.push(join(scratch, web!.filename));
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", ...tarballs], scratch);

    writeFileSync(
      join(scratch, "consumer.ts"),
      `import { openConvo, type Message } from "@convo/core";
import type { Conversation } from "@convo/core/types";
import { AppendMessageBody, LIMITS, type Message as WireMessage } from "@convo/protocol";
import { buildApp } from "@convo/server";
import { localPort } from "@convo/telegram";
import { createStickerBot } from "@convo/telegram/bot";
import { createConvoClient, ConvoApiError } from "@convo/client";
import { webRoot } from "@convo/web";

const body = AppendMessageBody.parse({ role: "user", content: "Привет!" });
const convo = await openConvo({ dataDir: "memory://" });
const { user } = await convo.users.create({ externalId: "tg:1" });
const { message, conversation }: { message: Message; conversation: Conversation } = await convo.messages.appendToCurrent(user.id, body);
const wire: Pick<WireMessage, "seq"> = { seq: message.seq };
const context = await convo.context.load(user.id);
const bot = createStickerBot({ token: "1:x", port: localPort(convo), botInfo: undefined });
const client = createConvoClient({ baseUrl: "http://127.0.0.1:1", retry: { retries: 0 } });
const offline = await client.ops.health().catch((error: unknown) => (error instanceof ConvoApiError ? error.code : "?"));
console.log(JSON.stringify({ seq: wire.seq, title: conversation.title, history: context.conversationHistory.length, limit: LIMITS.titleLength, app: typeof buildApp, client: offline, web: typeof webRoot, bot: typeof bot.expireDialogs }));
await convo.close();
`,
    );
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["consumer.ts"],
      }),
    );
    // The consumer type-checks against the published .d.ts files.
    run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], scratch);
    // And runs as plain JavaScript: strip the types with tsc and run the result with node.
    run(
      process.execPath,
      [
        join(root, "node_modules/typescript/bin/tsc"),
        "consumer.ts",
        "--module",
        "NodeNext",
        "--target",
        "ES2022",
        "--skipLibCheck",
        "--outDir",
        "out",
      ],
      scratch,
    );
    const printed = JSON.parse(run(process.execPath, ["out/consumer.js"], scratch).trim());
    expect(printed).toEqual({
      seq: 1,
      title: "Привет!",
      history: 1,
      limit: 30,
      app: "function",
      client: "NETWORK_ERROR",
      web: "string",
      bot: "function",
    });
    // The installed bin runs built JavaScript.
    expect(run(process.execPath, [join(scratch, "node_modules/@convo/server/bin/convo.js"), "--help"], scratch)).toContain(
      "Usage: convo",
    );
  });
});

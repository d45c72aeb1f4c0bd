/**
 * Stream tokens: minted by an authenticated call for one run or one conversation,
 * accepted as `?access_token=` on that stream's GET route only, never as a bearer
 * credential, short-lived, and never written to the logs.
 */
import { Writable } from "node:stream";
import type { ConvoOptions } from "@convo/core";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { StreamTokens } from "../src/chat/stream-tokens.js";
import { loggerOptions } from "../src/server.js";
import { pollToEnd, userAndConversation } from "./support/runs-http.js";
import { engines, request, startTestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

const offlineRuns: Partial<ConvoOptions> = { runs: { models: { env: {}, offline: { chunkDelayMs: 0 } } } };

describe("stream tokens", () => {
  it("expire, and are refused when altered or of another kind", async () => {
    const tokens = new StreamTokens("secret");
    const grant = {
      userId: "0b7f5a6e-3c61-4f55-9d0a-0d6f8b1c2e3f",
      scope: "run" as const,
      id: "1d2c3b4a-0000-4000-8000-000000000000",
    };
    const { token } = await tokens.mint(grant);
    expect(await tokens.verify(token)).toEqual(grant);
    await expect(new StreamTokens("other secret").verify(token)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(tokens.verify(`${token}x`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(tokens.verify(token.slice(4))).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    const expired = await new StreamTokens("secret", -1).mint(grant);
    await expect(tokens.verify(expired.token)).rejects.toMatchObject({ message: "access_token is not valid or has expired" });
  });
});

describe.each(engines)("stream tokens over HTTP on %s", (engine) => {
  it("open only the GET stream route of their run or conversation", async () => {
    const { url, api, token } = await startTestServer(engine, { convoOptions: offlineRuns });
    const { userId, conversationId } = await userAndConversation(api);
    const other = await userAndConversation(api);
    const start = await api("POST", `/v1/conversations/${conversationId}/runs`, { body: { content: "Привет" } });
    const runId = start.json.runId;
    await pollToEnd(api, runId);

    const minted = await api("POST", "/v1/stream-tokens", { body: { runId }, token: await token(userId) });
    expect(minted.status).toBe(201);
    const seconds = (Date.parse(minted.json.expiresAt) - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    const access = encodeURIComponent(minted.json.token);

    const stream = await request(url, "GET", `/v1/runs/${runId}/stream?access_token=${access}`, { token: null });
    expect(stream.status).toBe(200);
    expect(stream.text).toContain("event: done");

    const refused: [string, string][] = [
      ["GET", `/v1/runs/${runId}/events?access_token=${access}`],
      ["GET", `/v1/runs/${runId}?access_token=${access}`],
      ["POST", `/v1/runs/${runId}/cancel?access_token=${access}`],
      ["GET", `/v1/conversations/${conversationId}/stream?access_token=${access}`],
      ["GET", `/v1/chat/${conversationId}/stream?access_token=${access}`],
      ["GET", `/v1/runs/${runId}/stream?access_token=${access}&access_token=${access}`],
      ["GET", `/v1/runs/${runId}/stream?access_token=${await token(userId)}`],
    ];
    for (const [method, path] of refused) {
      const res = await request(url, method, path, { token: null });
      expect([path, res.status, res.json?.error?.code]).toEqual([path, 401, "UNAUTHORIZED"]);
    }
    // Never a bearer credential.
    expect((await request(url, "GET", `/v1/runs/${runId}`, { token: minted.json.token })).status).toBe(401);

    // A conversation token opens that conversation's chat resume route (204: nothing runs).
    const conv = await api("POST", "/v1/stream-tokens", { body: { conversationId } });
    const chatResume = `/v1/chat/${conversationId}/stream?access_token=${encodeURIComponent(conv.json.token)}`;
    expect((await request(url, "GET", chatResume, { token: null })).status).toBe(204);

    // Minting needs the resource to be the caller's.
    const foreign = await api("POST", "/v1/stream-tokens", {
      body: { conversationId: other.conversationId },
      token: await token(userId),
    });
    expect(foreign.status).toBe(404);
    expect((await api("POST", "/v1/stream-tokens", { body: { runId, conversationId } })).status).toBe(400);
  });

  it("never reaches the logs", async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const { convo, api } = await startTestServer(engine, { convoOptions: offlineRuns });
    const { conversationId } = await userAndConversation(api);
    // Request logging is opt-in (CONVO_LOG_REQUESTS); when on, the token must still be redacted.
    const { app } = await buildApp({ convo, open: true, logRequests: true, logger: { ...loggerOptions("info"), stream } });
    try {
      const tokens = await app.inject({ method: "POST", url: "/v1/stream-tokens", payload: { conversationId } });
      const token = tokens.json().token as string;
      const res = await app.inject({ method: "GET", url: `/v1/chat/${conversationId}/stream?access_token=${token}` });
      expect(res.statusCode).toBe(204);
    } finally {
      await app.close();
    }
    const log = lines.join("");
    expect(log).toContain(`/v1/chat/${conversationId}/stream?access_token=[redacted]`);
    expect(log).not.toContain("cst_");
  });
});

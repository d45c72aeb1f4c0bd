/**
 * Two Convo instances on one PostgreSQL schema stand for two nodes of the service:
 * a run started on A is followed and cancelled from B, through LISTEN/NOTIFY.
 */
import { describe, expect, it } from "vitest";
import { type Convo, openConvo, type RunEvent } from "../src/index.js";
import { engineOptions, engines, openTestConvo, rawQuery } from "./support/engines.js";
import { deltaText, gate, pause, type ScriptItem, scriptedModel, textParts, userWithConversation } from "./support/runs.js";

const postgres = engines.filter((engine) => engine === "postgres");

describe.skipIf(postgres.length === 0)("runs across two nodes on postgres", () => {
  const secondNode = async (a: Convo): Promise<Convo> =>
    openConvo({
      ...(await engineOptions("postgres", a.store.engine.schema)),
      runs: { nodeId: "node-b", models: { env: {} } },
    });

  it("starts on A, follows on B, cancels from B: A aborts and the run ends cancelled", async () => {
    const hold = gate();
    let aborted = false;
    const model = scriptedModel([
      ...textParts(["Узел A ", "говорит. "], { finish: false }),
      hold.promise,
      ...textParts(["Не должно дойти."]),
    ]);
    const original = model.doStream.bind(model);
    model.doStream = async (options) => {
      options.abortSignal?.addEventListener("abort", () => {
        aborted = true;
      });
      return original(options);
    };
    const a = await openTestConvo("postgres", {
      runs: { nodeId: "node-a", heartbeatMs: 3_600_000, models: { models: { model }, defaultModel: "model" } },
    });
    const b = await secondNode(a);
    try {
      const { userId, conversationId } = await userWithConversation(a);
      const { run } = await a.runs.start(userId, conversationId, { content: "Привет с узла A" });
      expect(run.nodeId).toBe("node-a");

      // B long-polls and is woken by A's NOTIFY.
      let after = 1;
      let text = "";
      while (!text.includes("говорит")) {
        const page = await b.runs.waitForEvents(userId, run.id, { after, waitMs: 10_000 });
        text += deltaText(page.events);
        after = page.nextAfter;
      }
      // B follows live, and cancels: the cancel reaches A through NOTIFY (A never heartbeats here).
      const seen: RunEvent[] = [];
      const following = (async () => {
        for await (const event of await b.runs.follow(userId, run.id)) seen.push(event);
      })();
      const requested = await b.runs.cancel(userId, run.id);
      expect(requested.cancelRequestedAt).toBeInstanceOf(Date);
      await following;
      hold.open();
      expect(aborted).toBe(true);
      expect(seen.at(-1)?.type).toBe("cancelled");
      expect(deltaText(seen)).toBe("Узел A говорит. ");
      expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
      expect(await b.runs.get(userId, run.id)).toMatchObject({ status: "cancelled", nodeId: "node-a" });
      expect(await rawQuery(a, "SELECT role FROM messages")).toEqual([{ role: "user" }]);
    } finally {
      await b.close();
    }
  });

  it("streams a run executed on A to a follower on B in real time, to the end", async () => {
    const pieces = Array.from({ length: 20 }, (_, i) => `слово${i} `);
    const script = textParts(pieces).flatMap((part): ScriptItem[] => (part.type === "text-delta" ? [part, pause(5)] : [part]));
    const a = await openTestConvo("postgres", {
      runs: { nodeId: "node-a", flushIntervalMs: 5, models: { models: { model: scriptedModel(script) }, defaultModel: "model" } },
    });
    const b = await secondNode(a);
    try {
      const { userId, conversationId } = await userWithConversation(a);
      const { run } = await a.runs.start(userId, conversationId, { content: "go" });
      const seen: RunEvent[] = [];
      for await (const event of await b.runs.follow(userId, run.id)) seen.push(event);
      expect(seen.at(-1)?.type).toBe("done");
      expect(deltaText(seen)).toBe(pieces.join(""));
      expect(seen.filter((e) => e.type === "delta").length).toBeGreaterThan(1);
      // A conversation follower on B saw the assistant message arrive.
      const feed = await b.runs.feed.follow(userId, conversationId, { afterSeq: 0 });
      const first = await feed.next();
      expect(first.value).toMatchObject({ type: "message", message: { role: "user", content: "go" } });
      const second = await feed.next();
      expect(second.value).toMatchObject({ type: "message", message: { role: "assistant", runId: run.id } });
      await feed.return(undefined);
    } finally {
      await b.close();
    }
  });
});

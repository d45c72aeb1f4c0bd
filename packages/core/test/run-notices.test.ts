import { afterEach, describe, expect, it, vi } from "vitest";
import { EventBuffer } from "../src/runs/event-buffer.js";
import { RunEventBus, type RunEventNotice } from "../src/runs/notifier.js";
import type { NewRunEvent } from "../src/runs/types.js";
import { engines, openTestConvo } from "./support/engines.js";
import { gate, scriptedModel, textParts, untilEnd, userWithConversation } from "./support/runs.js";

const notice = (seq: number): RunEventNotice => ({
  kind: "run",
  userId: "00000000-0000-4000-8000-000000000001",
  runId: "00000000-0000-4000-8000-000000000002",
  conversationId: "00000000-0000-4000-8000-000000000003",
  seq,
  type: "delta",
});

const until = async (check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe.each(engines)("run notices on %s", (engine) => {
  it("tells the writing node's subscribers at once and every other node once, by NOTIFY", async () => {
    const convo = await openTestConvo(engine);
    const errors: unknown[] = [];
    const here = new RunEventBus(convo.store, (error) => errors.push(error));
    const there = new RunEventBus(convo.store, (error) => errors.push(error));
    try {
      const heardHere: number[] = [];
      const heardThere: number[] = [];
      here.onRun(notice(0).runId, (n) => heardHere.push((n as { seq: number }).seq));
      there.onRun(notice(0).runId, (n) => heardThere.push((n as { seq: number }).seq));
      await here.ready();
      await there.ready();

      here.enqueue(notice(1));
      // In-process, before any statement: no waiting for the batch or a round trip.
      expect(heardHere).toEqual([1]);
      await until(() => heardThere.length > 0);
      expect(heardThere).toEqual([1]);

      await here.publish([notice(2)]);
      expect(heardHere).toEqual([1, 2]);
      await until(() => heardThere.length > 1);
      // The NOTIFY came back to `here` too and was skipped: still one of each.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heardHere).toEqual([1, 2]);
      expect(heardThere).toEqual([1, 2]);
      expect(errors).toEqual([]);
    } finally {
      await here.close();
      await there.close();
    }
  });

  it("sends an event write's notice from the writing statement, with the seq it stored, to the other nodes only", async () => {
    const hold = gate();
    const convo = await openTestConvo(engine, {
      runs: { models: { models: { model: scriptedModel([hold.promise, ...textParts(["ok"])]) }, defaultModel: "model" } },
    });
    const errors: unknown[] = [];
    const here = new RunEventBus(convo.store, (error) => errors.push(error));
    const there = new RunEventBus(convo.store, (error) => errors.push(error));
    let ended: (() => Promise<unknown>) | undefined;
    try {
      const { userId, conversationId } = await userWithConversation(convo);
      // The model waits on `hold`, so the executor writes nothing meanwhile: seq 1 is the start's.
      const { run } = await convo.runs.start(userId, conversationId, { content: "hi" });
      ended = () => untilEnd(convo, userId, run.id);
      const heardHere: RunEventNotice[] = [];
      const heardThere: RunEventNotice[] = [];
      here.onRun(run.id, (n) => heardHere.push(n as RunEventNotice));
      there.onRun(run.id, (n) => heardThere.push(n as RunEventNotice));
      await here.ready();
      await there.ready();
      const wire = here.wireNotice({ kind: "run", userId, runId: run.id, conversationId, type: "delta" });
      const stored = await convo.store.statement((uow) =>
        uow.runs.appendProgress(userId, run.id, [{ type: "delta", content: "x", data: null }], uow.now, {
          channel: here.channel,
          notice: wire,
        }),
      );
      expect(stored).toEqual({ lastSeq: 2 });
      // (The start's own notice, sent by the run's node, may reach both buses too: only seq 2 is this write's.)
      const written = (heard: RunEventNotice[]) => heard.filter((n) => n.seq === 2);
      await until(() => written(heardThere).length > 0);
      expect(written(heardThere)).toEqual([{ kind: "run", userId, runId: run.id, conversationId, type: "delta", seq: 2 }]);
      // `here` marked it as its own: the NOTIFY coming back is skipped (the writer tells its own subscribers).
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(written(heardHere)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await here.close();
      await there.close();
      hold.open();
      await ended?.();
    }
  });
});

describe("the event buffer's flush deadline", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes a piece that arrived during a slow write at most flushIntervalMs after it arrived", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const writes: { at: number; events: NewRunEvent[] }[] = [];
    let finishWrite: (() => void) | undefined;
    const buffer = new EventBuffer({
      flushIntervalMs: 50,
      flushChars: 1_000,
      write: (events) => {
        writes.push({ at: performance.now(), events });
        return new Promise<boolean>((resolve) => {
          finishWrite = () => resolve(true);
        });
      },
      onStop: () => {
        throw new Error("the buffer stopped");
      },
    });
    const start = performance.now();
    buffer.delta("first");
    await vi.advanceTimersByTimeAsync(0);
    // The first delta goes out at once; its write takes 70 ms.
    expect(writes.map((w) => w.events.map((e) => e.content))).toEqual([["first"]]);
    await vi.advanceTimersByTimeAsync(10);
    buffer.delta(" second");
    // " second" is due at 60 ms, while the first write is still in flight.
    await vi.advanceTimersByTimeAsync(60);
    expect(writes).toHaveLength(1);
    finishWrite?.();
    // Overdue when the write ends at 70 ms: written at once, not 50 ms later.
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toHaveLength(2);
    expect(writes[1]!.events.map((e) => e.content)).toEqual([" second"]);
    expect(writes[1]!.at - start).toBe(70);
    finishWrite?.();
    await buffer.stop();
    expect(buffer.text).toBe("first second");
  });
});

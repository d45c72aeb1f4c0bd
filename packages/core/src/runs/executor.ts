/**
 * Executes runs on this node: one AI SDK `streamText` call per run (multi-step, with
 * tools), detached from whoever started it. The stream is mapped to stored events —
 * reasoning → `thinking`, each tool call with its result → `tool_call`, text →
 * coalesced `delta`s — and the run ends with exactly one terminal event:
 *
 * - `done`: in one transaction the last deltas, the `done` event, the assistant
 *   message and the run's final fields;
 * - `cancelled`: cancel was requested (from any node); the deltas so far are kept,
 *   no assistant message is written;
 * - `error`: the model or a tool loop failed, storage failed, or this node is
 *   shutting down; no assistant message.
 *
 * If the run was ended elsewhere meanwhile (its lease expired and the sweep ended it)
 * the executor stops and writes nothing: every write is conditional on the run still
 * running, so a late node can never add events after a terminal one.
 */

import { stepCountIs, streamText, type TextStreamPart, type ToolSet } from "ai";
import type { BackgroundErrorHandler } from "../background/types.js";
import { ConflictError, ConvoError, RunFailure, type StopReason } from "../errors.js";
import type { Store } from "../store.js";
import type { RunsConfig } from "./config.js";
import { EventBuffer } from "./event-buffer.js";
import { errorMessage, jsonSafe } from "./json-safe.js";
import type { ModelRegistry } from "./models.js";
import type { RunEventBus, RunEventNotice } from "./notifier.js";
import type { RunContextLoader, RunHistorySearch } from "./ports.js";
import { buildPrompt } from "./prompt.js";
import { type RunToolContext, type RunTools, toolsFor } from "./tools.js";
import { isTerminal, type NewRunEvent, type RunFinish, type RunRow, type RunToolChoice, type RunUsage } from "./types.js";

/** Why a run stopped before its model finished. */
export interface ExecutorDeps {
  store: Store;
  bus: RunEventBus;
  config: RunsConfig;
  models: ModelRegistry;
  tools?: RunTools;
  context: RunContextLoader;
  history: RunHistorySearch;
  onError: BackgroundErrorHandler;
}

interface ActiveRun {
  run: RunRow;
  startedAt: number;
  controller: AbortController;
  stopReason?: StopReason;
  storageError?: unknown;
  /** The outcome is being stored: stops no longer apply. */
  finishing: boolean;
  done?: Promise<void>;
}

type Outcome =
  | { kind: "finished"; finishReason: string; usage: RunUsage }
  | { kind: "failed"; error: unknown }
  | { kind: "stopped" };

const ABORTED = Symbol("aborted");

/** Wraps each tool's `execute` to measure how long it took, by tool call id. */
function timed(tools: ToolSet, durations: Map<string, number>): ToolSet {
  const out: ToolSet = {};
  for (const [name, t] of Object.entries(tools)) {
    const execute = t.execute;
    if (!execute) {
      out[name] = t;
      continue;
    }
    const wrapped: typeof execute = (input, options) => {
      const started = performance.now();
      const result = execute(input, options);
      const record = () => durations.set(options.toolCallId, Math.round(performance.now() - started));
      if (result !== null && typeof result === "object" && Symbol.asyncIterator in result) {
        record(); // a streaming tool: its duration is measured to the first result
        return result;
      }
      return Promise.resolve(result).finally(record);
    };
    out[name] = { ...t, execute: wrapped };
  }
  return out;
}

const usageOf = (u: { inputTokens?: number; outputTokens?: number; totalTokens?: number } | undefined): RunUsage => {
  const inputTokens = u?.inputTokens ?? null;
  const outputTokens = u?.outputTokens ?? null;
  const totalTokens = u?.totalTokens ?? (inputTokens !== null && outputTokens !== null ? inputTokens + outputTokens : null);
  return { inputTokens, outputTokens, totalTokens };
};

export class RunExecutor {
  readonly #active = new Map<string, ActiveRun>();
  #closed = false;

  constructor(private readonly deps: ExecutorDeps) {}

  /** Runs executing on this node now. */
  get size(): number {
    return this.#active.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The runs executing here, for the heartbeat. */
  keys(): { userId: string; id: string }[] {
    return [...this.#active.values()].map((a) => ({ userId: a.run.userId, id: a.run.id }));
  }

  /** Starts executing a committed run, detached; never throws. */
  launch(run: RunRow, startedAt: number): void {
    const active: ActiveRun = { run, startedAt, controller: new AbortController(), finishing: false };
    this.#active.set(run.id, active);
    active.done = this.#execute(active)
      .catch((error: unknown) => this.deps.onError(error, { source: "run", runId: run.id, userId: run.userId }))
      .finally(() => {
        this.#active.delete(run.id);
      });
  }

  /** Stops a run executing here (no-op when it is not, or when it is already storing its outcome). */
  stop(runId: string, reason: StopReason): void {
    const active = this.#active.get(runId);
    if (!active || active.finishing || active.stopReason) return;
    active.stopReason = reason;
    active.controller.abort(new RunFailure(runId, reason.toUpperCase(), `run stopped: ${reason}`));
  }

  /**
   * Stops every run executing here; each ends `error` ("interrupted: node shutting
   * down") with its deltas kept. Waits up to `timeoutMs` for them to be stored; a run
   * not stored by then is left to lease expiry.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const running = [...this.#active.values()];
    for (const active of running) this.stop(active.run.id, "shutdown");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running.map((a) => a.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  async #execute(active: ActiveRun): Promise<void> {
    const { run } = active;
    const { store, bus, config } = this.deps;
    const unsubscribe = bus.onRun(run.id, (notice) => {
      if (notice.kind === "cancel") this.stop(run.id, "cancel");
      // A terminal event we did not write: the run was ended elsewhere (lease expiry).
      else if (notice.kind === "run" && isTerminal(notice.type) && !active.finishing) this.stop(run.id, "lost");
    });
    const buffer = new EventBuffer({
      flushIntervalMs: config.flushIntervalMs,
      flushChars: config.flushChars,
      write: async (events) => {
        // Intermediate events: relaxed commit on PostgreSQL (see RunsRepository.appendProgress);
        // the terminal event is written by #finish, durably. Not on PGlite: there the
        // database lives in this process, so a killed node would take events its clients
        // had already seen with it (and their seqs would be given out again); PGlite does
        // not fsync, so an asynchronous commit would save nothing there anyway. The
        // statement sends the other nodes' notice itself; this node's followers hear here.
        const relaxed = store.engine.kind === "postgres";
        const notice = {
          kind: "run",
          userId: run.userId,
          runId: run.id,
          conversationId: run.conversationId,
          type: events[events.length - 1]!.type,
        } as const;
        const stored = await store.statement((uow) =>
          uow.runs.appendProgress(
            run.userId,
            run.id,
            events,
            uow.now,
            { channel: bus.channel, notice: bus.wireNotice(notice) },
            { relaxed: relaxed && !uow.inTransaction },
          ),
        );
        if (stored) bus.dispatchLocal({ ...notice, seq: stored.lastSeq });
        return stored !== undefined;
      },
      onStop: (reason) => {
        if (!reason.refused) active.storageError = reason.error;
        this.stop(run.id, reason.refused ? "lost" : "storage");
      },
    });
    let outcome: Outcome;
    try {
      // Without LISTEN a cancel still arrives, through the heartbeat.
      await bus.ready().catch((error: unknown) => this.deps.onError(error, { source: "listen", runId: run.id }));
      outcome = await this.#stream(active, buffer);
    } catch (error) {
      outcome = { kind: "failed", error };
    }
    try {
      active.finishing = true;
      await this.#finish(active, outcome, buffer);
    } finally {
      unsubscribe();
    }
  }

  async #stream(active: ActiveRun, buffer: EventBuffer): Promise<Outcome> {
    const { run } = active;
    const { store, config } = this.deps;
    const signal = active.controller.signal;
    // The context and the run's state in one statement. A cancel requested before this
    // node listened (bus.ready, awaited before this) is on the row.
    const { context, run: current } = await this.deps.context.loadForRun(
      run.userId,
      {
        conversationId: run.conversationId,
        sessionsLimit: config.sessionsLimit,
        // With a budget the budget decides how much history goes in (up to 200 messages).
        ...(config.contextTokenBudget === undefined
          ? { historyLimit: config.historyLimit }
          : { historyLimit: 200, tokenBudget: config.contextTokenBudget, model: run.model ?? this.deps.models.defaultModel }),
      },
      run.id,
    );
    if (current?.status !== "running") this.stop(run.id, "lost");
    else if (current.cancelRequested) this.stop(run.id, "cancel");
    if (signal.aborted) return { kind: "stopped" };

    const model = await this.deps.models.resolve(run.model ?? this.deps.models.defaultModel);
    const regenerate = (run.options as { regenerate?: boolean }).regenerate === true;
    const prompt = buildPrompt(config.systemPrompt, context, {
      upToMessageId: regenerate ? (run.userMessageId ?? undefined) : undefined,
    });
    const toolContext: RunToolContext = {
      userId: run.userId,
      conversationId: run.conversationId,
      runId: run.id,
      now: store.clock,
      searchHistory: (query, limit) =>
        this.deps.history.search(run.userId, query, { limit, excludeConversationId: run.conversationId }),
    };
    const durations = new Map<string, number>();
    const callStarted = new Map<string, number>();
    const tools = timed(toolsFor(toolContext, this.deps.tools), durations);
    const toolChoice = (run.options as { toolChoice?: RunToolChoice }).toolChoice;

    const result = streamText({
      model,
      system: prompt.system,
      messages: prompt.messages,
      allowSystemInMessages: true,
      tools,
      toolChoice,
      stopWhen: stepCountIs(config.maxSteps),
      maxRetries: config.maxRetries,
      abortSignal: signal,
      experimental_context: toolContext,
      // Errors arrive as `error` parts below; the default would print them.
      onError: () => {},
    });

    const iterator = result.fullStream[Symbol.asyncIterator]();
    // A model that ignores the abort signal must not keep the run open: an abort wakes
    // the read in flight. One listener serves every read (racing each read against one
    // long-lived promise would leave a reaction on it per part until the run ends). The
    // signal is this run's own, so the listener goes with it.
    let wake: ((value: typeof ABORTED) => void) | undefined;
    const onAbort = () => wake?.(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    const read = () => {
      if (signal.aborted) return ABORTED;
      const pending = iterator.next();
      return new Promise<IteratorResult<TextStreamPart<ToolSet>> | typeof ABORTED>((resolve, reject) => {
        wake = resolve;
        pending.then(resolve, reject);
      });
    };
    let streamError: unknown;
    let finish: { finishReason: string; usage: RunUsage } | undefined;
    let lastText = "";
    let stepStarted = false;
    for (;;) {
      const next = await read();
      if (next === ABORTED) {
        iterator.return?.().catch(() => {});
        return { kind: "stopped" };
      }
      if (next.done) break;
      const part: TextStreamPart<ToolSet> = next.value;
      switch (part.type) {
        case "start-step":
          stepStarted = true;
          break;
        case "reasoning-delta":
          buffer.reasoning(part.text);
          break;
        case "reasoning-end":
          buffer.close();
          break;
        case "text-delta":
          if (part.text.length === 0) break;
          // The text of a later step is separated from the earlier one's inside the
          // one answer; the separator is a delta too, so the deltas stay equal to it.
          if (stepStarted && lastText && !/\s$/.test(lastText)) buffer.delta("\n\n");
          stepStarted = false;
          lastText = part.text;
          buffer.delta(part.text);
          break;
        case "tool-call":
          callStarted.set(part.toolCallId, performance.now());
          break;
        case "tool-result":
        case "tool-error": {
          if (part.type === "tool-result" && part.preliminary) break;
          const started = callStarted.get(part.toolCallId);
          const durationMs = durations.get(part.toolCallId) ?? (started ? Math.round(performance.now() - started) : 0);
          const success = part.type === "tool-result";
          buffer.event({
            type: "tool_call",
            content: null,
            data: {
              toolCallId: part.toolCallId,
              name: part.toolName,
              arguments: jsonSafe(part.input),
              result: success ? jsonSafe(part.output) : errorMessage(part.error),
              success,
              durationMs,
            },
          });
          break;
        }
        case "error":
          streamError ??= part.error;
          break;
        case "finish":
          finish = { finishReason: part.finishReason, usage: usageOf(part.totalUsage) };
          break;
        default:
          break;
      }
    }
    if (signal.aborted) return { kind: "stopped" };
    if (streamError !== undefined) return { kind: "failed", error: streamError };
    if (!finish) return { kind: "failed", error: new Error("the model's stream ended without finishing") };
    return { kind: "finished", ...finish };
  }

  #notice(run: RunRow, seq: number, type: NewRunEvent["type"]): RunEventNotice {
    return { kind: "run", userId: run.userId, runId: run.id, conversationId: run.conversationId, seq, type };
  }

  async #finish(active: ActiveRun, outcome: Outcome, buffer: EventBuffer): Promise<void> {
    const { run } = active;
    if (active.stopReason === "lost") {
      await buffer.stop();
      return;
    }
    const rest = await buffer.takeAll();
    const processingTimeMs = Math.round(performance.now() - active.startedAt);
    if (outcome.kind === "finished" && !active.stopReason) {
      try {
        await this.#commitDone(active, rest, buffer.text, outcome, processingTimeMs);
        return;
      } catch (error) {
        outcome = { kind: "failed", error };
      }
    }
    if (active.stopReason === "cancel") {
      await this.#commitEnd(
        run,
        rest,
        { type: "cancelled", content: "cancelled by request" },
        { status: "cancelled", error: "cancelled by request", processingTimeMs },
      );
      return;
    }
    const failure = this.#failure(active, outcome);
    this.deps.onError(failure, { source: "run", runId: run.id, userId: run.userId, conversationId: run.conversationId });
    await this.#commitEnd(
      run,
      rest,
      { type: "error", content: failure.message, data: { code: failure.code } },
      { status: "error", error: failure.message, processingTimeMs },
    );
  }

  #failure(active: ActiveRun, outcome: Outcome): RunFailure {
    const id = active.run.id;
    if (active.stopReason === "shutdown") return new RunFailure(id, "INTERRUPTED", "interrupted: node shutting down");
    if (active.stopReason === "storage") {
      return new RunFailure(id, "STORAGE_FAILED", `storing the run's events failed: ${errorMessage(active.storageError)}`, {
        cause: active.storageError,
      });
    }
    const error = outcome.kind === "failed" ? outcome.error : undefined;
    if (error instanceof ConvoError) return new RunFailure(id, error.code, errorMessage(error), { cause: error });
    const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
    const suffix = typeof status === "number" ? ` (HTTP ${status})` : "";
    return new RunFailure(id, "MODEL_FAILED", `the model failed: ${errorMessage(error)}${suffix}`, { cause: error });
  }

  /** The `done` statement: last deltas + done event + assistant message + final run fields. */
  async #commitDone(
    active: ActiveRun,
    rest: NewRunEvent[],
    finalText: string,
    outcome: Extract<Outcome, { kind: "finished" }>,
    processingTimeMs: number,
  ): Promise<void> {
    const { run } = active;
    const model = run.model ?? this.deps.models.defaultModel;
    // The answer takes the run's id, so a client knows it from the start (the AI SDK's `start` chunk).
    const done: NewRunEvent = {
      type: "done",
      content: finalText,
      data: {
        model,
        usage: outcome.usage,
        processingTimeMs,
        assistantMessageId: run.id,
        finishReason: outcome.finishReason,
      },
    };
    const stored = await this.deps.store.statement((uow) =>
      uow.runs.finishWithAnswer(
        run.userId,
        run.id,
        run.conversationId,
        finalText,
        [...rest, done],
        { model, usage: outcome.usage, processingTimeMs },
        uow.now,
      ),
    );
    // Ended elsewhere meanwhile (cancelled, expired): nothing was stored.
    if (stored.kind === "ended") return;
    if (stored.kind === "closed") {
      throw new ConflictError("CONVERSATION_CLOSED", "The conversation was closed before the answer was stored", {
        conversationId: run.conversationId,
      });
    }
    this.deps.bus.enqueue(this.#notice(run, stored.lastSeq, "done"));
    this.deps.bus.enqueue({ kind: "message", userId: run.userId, conversationId: run.conversationId, seq: stored.messageSeq });
  }

  /** Stores the terminal `cancelled` or `error` event with the run's final fields; no message. */
  async #commitEnd(run: RunRow, rest: NewRunEvent[], terminal: NewRunEvent, finish: RunFinish): Promise<void> {
    try {
      const stored = await this.deps.store.statement((uow) =>
        uow.runs.finish(run.userId, run.id, [...rest, terminal], finish, uow.now),
      );
      if (stored) this.deps.bus.enqueue(this.#notice(run, stored.lastSeq, terminal.type));
    } catch (error) {
      // Nothing more can be done here: the lease stops being renewed, so the sweep
      // ends the run as interrupted.
      this.deps.onError(new RunFailure(run.id, "STORAGE_FAILED", `storing the end of run ${run.id} failed`, { cause: error }), {
        source: "run",
        runId: run.id,
        userId: run.userId,
        conversationId: run.conversationId,
      });
    }
  }
}

/**
 * Writing summaries. A conversation that closes (by the user, the app or the
 * inactivity sweep) is marked due by a trigger in the closing transaction; its summary
 * is written right after the close commits, or by the next sweep, and once written is
 * only ever extended with later turns (if the conversation gets any), never rewritten
 * from scratch. A failure is stored on the conversation as `summaryWarning` and retried
 * by the sweep with backoff. Rolling summaries stand in for the oldest turns of a
 * conversation that outgrew a context's token budget.
 */
import { ConvoError, NotFoundError } from "../errors.js";
import type { Store } from "../store.js";
import { assertUuid, intInRange } from "../validation.js";
import { extractiveSummary } from "./extractive.js";
import { type DueConversation, MAX_SUMMARY_INPUT_MESSAGES } from "./repository.js";
import type { RollingSummary, SummarizeResult, Summarizer } from "./types.js";

/**
 * A summary could not be written (the model failed); the warning is stored and the sweep retries.
 *
 * @example
 * try { await convo.summaries.summarize(userId, id); } catch (e) { if (e instanceof SummaryFailedError) console.warn(e.message, e.cause); }
 */
export class SummaryFailedError extends ConvoError {
  constructor(conversationId: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super("SUMMARY_FAILED", 502, `The summary of conversation ${conversationId} could not be written: ${why}`, {
      details: { conversationId },
      cause,
    });
  }
}

export interface SummariesServiceOptions {
  /** Writes the text; default: extractive. */
  summarizer?: Summarizer;
  /** First retry delay after a failure, doubled per failure up to a day (default 1 minute). */
  retryBaseMs?: number;
  /** Conversations per pass of `runPending` (default 100). */
  batchSize?: number;
  onError?: (error: unknown) => void;
}

type Outcome = "written" | "empty" | "lost" | "failed";

const extractive: Summarizer = async (input) => extractiveSummary(input);

export class SummariesService {
  readonly #summarizer: Summarizer;
  readonly #retryBaseMs: number;
  readonly #batchSize: number;
  readonly #onError: (error: unknown) => void;

  constructor(
    private readonly store: Store,
    options: SummariesServiceOptions = {},
  ) {
    this.#summarizer = options.summarizer ?? extractive;
    this.#retryBaseMs = options.retryBaseMs ?? 60_000;
    this.#batchSize = options.batchSize ?? 100;
    this.#onError = options.onError ?? (() => {});
  }

  async #summarizeOne(conversation: DueConversation): Promise<{ outcome: Outcome; error?: unknown }> {
    const { userId, id, summarySeq, lastSeq } = conversation;
    const turns = await this.store.read((uow) =>
      uow.summaries.turns(userId, id, summarySeq, lastSeq, MAX_SUMMARY_INPUT_MESSAGES),
    );
    if (turns.length === 0) {
      await this.store.statement((uow) => uow.summaries.clearPending(userId, id));
      return { outcome: "empty" };
    }
    let text: string;
    try {
      text = await this.#summarizer({ previous: conversation.summary, messages: turns, title: conversation.title });
      if (text.trim().length === 0) throw new Error("the summarizer answered an empty text");
    } catch (error) {
      const why = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      await this.store.statement((uow) => uow.summaries.fail(userId, id, why, uow.now));
      return { outcome: "failed", error };
    }
    const written = await this.store.statement((uow) => uow.summaries.write(userId, id, text, summarySeq, lastSeq));
    return { outcome: written ? "written" : "lost" };
  }

  /**
   * Writes (or extends) the conversation's summary now. Answers the stored summary;
   * throws SummaryFailedError when the summarizer fails (the warning is stored too).
   *
   * @example
   * const { summary } = await convo.summaries.summarize(userId, conversationId);
   */
  async summarize(userId: string, conversationId: string): Promise<{ summary: string | null; written: boolean }> {
    const uid = assertUuid("userId", userId);
    const cid = assertUuid("conversationId", conversationId);
    const conversation = await this.store.read((uow) => uow.summaries.find(uid, cid));
    if (!conversation) throw new NotFoundError("conversation", cid);
    const { outcome, error } = await this.#summarizeOne(conversation);
    if (outcome === "failed") throw new SummaryFailedError(cid, error);
    const after = await this.store.read((uow) => uow.summaries.find(uid, cid));
    return { summary: after?.summary ?? null, written: outcome === "written" };
  }

  /** Summarizes one conversation in the background (after a close commits); failures are stored, never thrown. */
  summarizeSoon(userId: string, conversationId: string): void {
    this.summarize(userId, conversationId).catch((error: unknown) => {
      if (!(error instanceof SummaryFailedError)) this.#onError(error);
    });
  }

  /**
   * Writes the summaries that closes left due, retrying failed ones with backoff (the
   * sweep calls this). Bounded: at most `maxBatches` batches per call.
   */
  async runPending(now = this.store.clock(), maxBatches = 10): Promise<SummarizeResult> {
    const result: SummarizeResult = { written: 0, failed: 0 };
    for (let i = 0; i < maxBatches; i++) {
      const due = await this.store.read((uow) => uow.summaries.pending(now, this.#retryBaseMs, this.#batchSize));
      let progressed = 0;
      for (const conversation of due) {
        const { outcome } = await this.#summarizeOne(conversation);
        if (outcome === "written") result.written++;
        if (outcome === "failed") result.failed++;
        else progressed++;
      }
      // Only failures left in this batch: they wait for their backoff.
      if (due.length < this.#batchSize || progressed === 0) break;
    }
    return result;
  }

  /**
   * Summarizes every closed conversation whose summary is missing or behind its turns
   * (conversations closed before summaries existed): `convo summarize --backfill`.
   *
   * @example
   * await convo.summaries.backfill({ onProgress: (done) => console.log(done) });
   */
  async backfill(
    options: { batchSize?: number; onProgress?: (progress: SummarizeResult & { seen: number }) => void } = {},
  ): Promise<SummarizeResult & { seen: number }> {
    const batchSize = intInRange("batchSize", options.batchSize, 1, 10_000, 200);
    const result = { written: 0, failed: 0, seen: 0 };
    let after: { userId: string; id: string } | undefined;
    for (;;) {
      const batch = await this.store.read((uow) => uow.summaries.stale(batchSize, after));
      for (const conversation of batch) {
        const { outcome } = await this.#summarizeOne(conversation);
        result.seen++;
        if (outcome === "written") result.written++;
        if (outcome === "failed") result.failed++;
      }
      options.onProgress?.({ ...result });
      const last = batch[batch.length - 1];
      if (!last || batch.length < batchSize) break;
      after = { userId: last.userId, id: last.id };
    }
    return result;
  }

  /** The newest rolling summary of a conversation. */
  latestRolling(userId: string, conversationId: string): Promise<RollingSummary | undefined> {
    return this.store.read(async (uow) => {
      const r = await uow.summaries.latestRolling(userId, conversationId);
      return r && { messageId: r.messageId, seq: r.seq, fromSeq: r.fromSeq, toSeq: r.toSeq, content: r.content };
    });
  }

  /**
   * Extends the conversation's rolling summary to cover every turn up to `toSeq`: the
   * previous rolling summary plus the turns after it, summarized and appended as a new
   * summary message. Old messages are neither deleted nor changed. Answers the newest
   * rolling summary (unchanged when it already reaches `toSeq`).
   */
  async roll(userId: string, conversationId: string, toSeq: number): Promise<RollingSummary | undefined> {
    const previous = await this.latestRolling(userId, conversationId);
    if (previous && previous.toSeq >= toSeq) return previous;
    const fromSeq = previous ? previous.toSeq : 0;
    const turns = await this.store.read((uow) =>
      uow.summaries.turns(userId, conversationId, fromSeq, toSeq, MAX_SUMMARY_INPUT_MESSAGES),
    );
    if (turns.length === 0) return previous;
    const text = await this.#summarizer({ previous: previous?.content ?? null, messages: turns });
    const stored = await this.store.statement((uow) =>
      uow.summaries.appendRolling(userId, conversationId, text, 1, toSeq, uow.now),
    );
    if (!stored) return this.latestRolling(userId, conversationId);
    return { ...stored, fromSeq: 1, toSeq, content: text };
  }
}

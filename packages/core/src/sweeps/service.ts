/**
 * Lifecycle sweeps (DESIGN.md §1.1) as plain functions a scheduler calls. Each is
 * idempotent, works in batches of `sweepBatchSize` rows (one autocommit statement per
 * batch, `SKIP LOCKED` so it never waits on a busy conversation) and stops after
 * `sweepMaxBatches` batches so one call is bounded in time.
 */
import type { LifecycleConfig } from "../config.js";
import type { Store } from "../store.js";
import type { ExpiredDialog, PendingSearchIndex, PendingSummaries, RunLeaseSweeper, SweepResult } from "./types.js";

/**
 * The lifecycle sweeps (`convo.sweeps`): close idle conversations, abandon idle
 * dialogs, delete expired ones, backfill titles, end runs whose node died, write due
 * summaries, index closed conversations for search. The server
 * runs them on a timer; a library host calls `runAll` about once a minute.
 *
 * @example
 * setInterval(() => convo.sweeps.runAll().catch(console.error), 60_000).unref();
 */
export class SweepsService {
  constructor(
    private readonly store: Store,
    private readonly lifecycle: LifecycleConfig,
    private readonly runs?: RunLeaseSweeper,
    private readonly summaries?: PendingSummaries,
    private readonly search?: PendingSearchIndex,
  ) {}

  async #batches(run: (batch: number) => Promise<number>): Promise<number> {
    const { sweepBatchSize: batch, sweepMaxBatches } = this.lifecycle;
    let total = 0;
    for (let i = 0; i < sweepMaxBatches; i++) {
      const n = await run(batch);
      total += n;
      if (n < batch) break;
    }
    return total;
  }

  /** Closes (reason `inactivity`) open conversations idle longer than the threshold. */
  closeInactive(now = this.store.clock()): Promise<number> {
    const idleBefore = new Date(now.getTime() - this.lifecycle.inactivityMs);
    return this.#batches((batch) => this.store.statement((uow) => uow.conversations.closeIdleBatch(idleBefore, now, batch)));
  }

  /** Abandons active assistant dialogs without activity for longer than `dialogInactivityMs`. */
  async abandonIdleDialogs(now = this.store.clock()): Promise<number> {
    return (await this.expireDialogs(now)).length;
  }

  /**
   * The same sweep, answering which dialogs it abandoned and whose they were, so a bot
   * can tell each user that their dialog expired. Whoever sweeps first gets the
   * dialogs: a bot that sends the expiry message should run this before (or instead
   * of) the server's `runAll`.
   *
   * @example
   * for (const expired of await convo.sweeps.expireDialogs()) {
   *   if (expired.externalId?.startsWith("tg:")) await bot.api.sendMessage(expired.externalId.slice(3), "Диалог истёк");
   * }
   */
  async expireDialogs(now = this.store.clock()): Promise<ExpiredDialog[]> {
    const idleBefore = new Date(now.getTime() - this.lifecycle.dialogInactivityMs);
    const expired: ExpiredDialog[] = [];
    await this.#batches(async (batch) => {
      const rows = await this.store.statement((uow) => uow.assistantSessions.abandonIdleBatch(idleBefore, now, batch));
      expired.push(...rows);
      return rows.length;
    });
    return expired;
  }

  /** Deletes conversations closed longer ago than the retention, with everything under them. */
  deleteExpired(now = this.store.clock()): Promise<number> {
    const closedBefore = new Date(now.getTime() - this.lifecycle.retentionMs);
    return this.#batches((batch) => this.store.statement((uow) => uow.conversations.deleteClosedBatch(closedBefore, batch)));
  }

  /** Gives closed conversations that never got a title a date title (`21 Nov 2026`). */
  backfillTitles(): Promise<number> {
    return this.#batches((batch) => this.store.statement((uow) => uow.conversations.backfillDateTitlesBatch(batch)));
  }

  /**
   * Indexes closed conversations for search. A failure does not stop the other sweeps:
   * it is reported as a background error (`search-index`, which the server logs and
   * counts) and counted in the result; the next sweep retries (search stays right
   * meanwhile, matching unindexed messages on the fly).
   */
  async indexSearch(): Promise<{ messages: number; conversations: number; failures: number }> {
    if (!this.search) return { messages: 0, conversations: 0, failures: 0 };
    try {
      return { ...(await this.search.indexPending()), failures: 0 };
    } catch (error) {
      this.store.background.report(error, { source: "search-index" });
      return { messages: 0, conversations: 0, failures: 1 };
    }
  }

  /**
   * Runs every sweep once, in order: close conversations, abandon dialogs, delete,
   * title, expire run leases, write the summaries closes left due, index the closed
   * conversations for search (after the closes and deletes, so it indexes what they left).
   */
  async runAll(now = this.store.clock()): Promise<SweepResult> {
    const closedInactive = await this.closeInactive(now);
    const abandonedDialogs = await this.abandonIdleDialogs(now);
    const deletedExpired = await this.deleteExpired(now);
    const titledByDate = await this.backfillTitles();
    const interruptedRuns = (await this.runs?.expireLeases(now)) ?? 0;
    const summaries = (await this.summaries?.runPending(now)) ?? { written: 0, failed: 0 };
    const search = await this.indexSearch();
    return {
      closedInactive,
      abandonedDialogs,
      deletedExpired,
      titledByDate,
      interruptedRuns,
      summariesWritten: summaries.written,
      summaryFailures: summaries.failed,
      searchIndexedMessages: search.messages,
      searchIndexedConversations: search.conversations,
      searchIndexFailures: search.failures,
    };
  }
}

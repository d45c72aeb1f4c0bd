/** The result shapes of the lifecycle sweeps. */

export interface SweepResult {
  closedInactive: number;
  /** Active assistant dialogs abandoned after `dialogInactivityMs` without activity. */
  abandonedDialogs: number;
  deletedExpired: number;
  titledByDate: number;
  /** Runs whose lease expired (their node died), ended as `error` "interrupted". */
  interruptedRuns: number;
  /** Summaries written for closed conversations. */
  summariesWritten: number;
  /** Summary attempts that failed (stored as warnings, retried with backoff). */
  summaryFailures: number;
  /** Messages of closed conversations written to the search index. */
  searchIndexedMessages: number;
  /** Closed conversations whose messages are now all in the search index. */
  searchIndexedConversations: number;
  /** Search indexer passes that failed (reported as background errors; the next sweep retries). */
  searchIndexFailures: number;
}

/** The part of the runs service the sweep uses. */
export interface RunLeaseSweeper {
  expireLeases(now?: Date): Promise<number>;
}

/** The part of the summaries service the sweep uses. */
export interface PendingSummaries {
  runPending(now?: Date): Promise<{ written: number; failed: number }>;
}

/** The part of the search service the sweep uses. */
export interface PendingSearchIndex {
  indexPending(): Promise<{ messages: number; conversations: number }>;
}

/** A dialog abandoned after `dialogInactivityMs` without activity, and whose it was. */
export type { ExpiredDialogRow as ExpiredDialog } from "../dialogs/types.js";

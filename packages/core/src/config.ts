/** Lifecycle settings, with the defaults of DESIGN.md §1.1. */
export interface LifecycleConfig {
  /** A conversation without activity for this long is inactive and gets closed (30 min). */
  inactivityMs: number;
  /** An active assistant dialog without activity for this long is abandoned by the sweep (30 min). */
  dialogInactivityMs: number;
  /** Closed conversations are deleted this long after closing (90 days). */
  retentionMs: number;
  /** Rows a sweep touches per statement. */
  sweepBatchSize: number;
  /** Batches one sweep call runs at most, so a sweep is bounded in time. */
  sweepMaxBatches: number;
}

export const defaultLifecycle: LifecycleConfig = {
  inactivityMs: 30 * 60 * 1000,
  dialogInactivityMs: 30 * 60 * 1000,
  retentionMs: 90 * 24 * 60 * 60 * 1000,
  sweepBatchSize: 500,
  sweepMaxBatches: 200,
};

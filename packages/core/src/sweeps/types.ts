/** The result shapes of the lifecycle sweeps. */

export interface SweepResult {
  closedInactive: number;
  /** Active assistant dialogs abandoned after `dialogInactivityMs` without activity. */
  abandonedDialogs: number;
  deletedExpired: number;
  titledByDate: number;
  /** Runs whose lease expired (their node died), ended as `error` "interrupted". */
  interruptedRuns: number;
}

/** The part of the runs service the sweep uses. */
export interface RunLeaseSweeper {
  expireLeases(now?: Date): Promise<number>;
}

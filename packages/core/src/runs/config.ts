/** Settings of background runs, with their defaults (see docs/runs.md). */

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

export interface RunsConfig {
  /**
   * This process's id in `runs.node_id`. Unique per process (host, pid and a random
   * suffix by default), so a restarted node never extends the leases of runs its
   * previous incarnation left behind.
   */
  nodeId: string;
  /** Runs this node executes at once; one more start answers 429 (default 32). */
  maxRunsPerNode: number;
  /** Running runs per user across all nodes; one more start answers 429 (default 4). */
  maxRunsPerUser: number;
  /** How long a run's lease lasts without a heartbeat (default 30 s). */
  leaseMs: number;
  /** How often this node extends the leases of its runs (default 5 s). */
  heartbeatMs: number;
  /** Text deltas are stored at most this long after they arrive (default 50 ms). */
  flushIntervalMs: number;
  /** …or as soon as this many characters are waiting (default 1,000). */
  flushChars: number;
  /** Model steps per run (a step is one model call; tool calls add steps; default 5). */
  maxSteps: number;
  /** Retries of a failed model call before the run ends as `error` (default 2). */
  maxRetries: number;
  /** Messages of the current conversation given to the model (default 20). */
  historyLimit: number;
  /** Previous conversations summarised in the system message (default 3). */
  sessionsLimit: number;
  /**
   * Fit each run's context into this many tokens, counted for the run's model (see
   * docs/memory.md); older turns then give way to a rolling summary. Default: no budget.
   */
  contextTokenBudget?: number;
  /** The assistant's instructions, first in the system message. */
  systemPrompt: string;
  /**
   * A safety net, not the delivery path: a waiting follower re-reads the database
   * this often even without a notification, in case one was lost (a dropped LISTEN
   * connection, a node that died between commit and NOTIFY). Default 10 s.
   */
  recheckMs: number;
  /** How long `close()` waits for in-flight runs to store their final event (default 5 s). */
  shutdownTimeoutMs: number;
}

/**
 * The default run settings; `openConvo({ runs })` overrides them field by field. A
 * function, because each call makes a fresh `nodeId`.
 *
 * @example
 * const { maxRunsPerUser, leaseMs } = defaultRunsConfig(); // 4, 30_000
 * const convo = await openConvo({ runs: { maxRunsPerUser: maxRunsPerUser * 2, leaseMs } });
 */
export const defaultRunsConfig = (): RunsConfig => ({
  nodeId: `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`,
  maxRunsPerNode: 32,
  maxRunsPerUser: 4,
  leaseMs: 30_000,
  heartbeatMs: 5_000,
  flushIntervalMs: 50,
  flushChars: 1_000,
  maxSteps: 5,
  maxRetries: 2,
  historyLimit: 20,
  sessionsLimit: 3,
  systemPrompt: "You are a helpful assistant. Answer in the language of the user's last message.",
  recheckMs: 10_000,
  shutdownTimeoutMs: 5_000,
});

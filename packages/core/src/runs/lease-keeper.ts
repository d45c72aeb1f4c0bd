/**
 * The heartbeat of the runs this node executes: every `heartbeatMs` their leases are
 * extended to now + `leaseMs` in one statement. A run that is no longer running here
 * (ended elsewhere) is stopped, and a run whose cancellation is flagged on its row is
 * cancelled — the fallback for a cancel notice this node did not hear.
 */
import type { BackgroundErrorHandler } from "../background/types.js";
import type { Store } from "../store.js";
import type { RunsConfig } from "./config.js";
import type { RunExecutor } from "./executor.js";

export class LeaseKeeper {
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly executor: RunExecutor,
    private readonly config: RunsConfig,
    private readonly onError: BackgroundErrorHandler,
  ) {}

  /** The lease a run started now gets. */
  leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.config.leaseMs);
  }

  /** Starts the periodic heartbeat (idempotent). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (!this.#beating) {
        this.#beating = this.beat()
          .catch((error: unknown) => this.onError(error, { source: "lease-heartbeat" }))
          .finally(() => {
            this.#beating = undefined;
          });
      }
    }, this.config.heartbeatMs);
    // A library user's process may exit while runs are idle; the server keeps itself alive.
    this.#timer.unref();
  }

  /** Extends the leases once now. */
  async beat(): Promise<void> {
    const keys = this.executor.keys();
    if (keys.length === 0) return;
    const until = this.leaseFrom(this.store.clock());
    const alive = await this.store.statement((uow) => uow.runs.heartbeat(this.config.nodeId, keys, until));
    const byId = new Map(alive.map((row) => [row.id, row]));
    for (const key of keys) {
      const row = byId.get(key.id);
      if (!row) this.executor.stop(key.id, "lost");
      else if (row.cancelRequested) this.executor.stop(key.id, "cancel");
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beating;
  }
}

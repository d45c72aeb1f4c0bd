/**
 * Runs a client started and has not seen end, kept so that a page reloaded mid-run
 * (or a restarted process) resumes each of them where it stopped: localStorage in a
 * browser, memory elsewhere.
 */

/** The part of the Web Storage API the store needs. */
interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The browser's localStorage, if any (read from globalThis: the package compiles without DOM types). */
function browserStorage(): StorageLike | undefined {
  try {
    return (globalThis as { localStorage?: StorageLike }).localStorage;
  } catch {
    // Access throws where storage is disabled (sandboxed frames, some privacy modes).
    return undefined;
  }
}

/** A run being followed, and the last event seq its follower showed. */
export interface PendingRun {
  runId: string;
  conversationId: string;
  /** The last event seq shown; a resumed follow starts after it, so nothing is shown twice. */
  after: number;
}

/** Where pending runs are kept. */
export interface PendingRunStore {
  list(): PendingRun[];
  put(run: PendingRun): void;
  remove(runId: string): void;
}

/**
 * Pending runs in memory (Node, tests, private browsing).
 *
 * @example
 * const convo = createConvoClient({ baseUrl, token, pendingRuns: memoryPendingRuns() });
 */
export function memoryPendingRuns(): PendingRunStore {
  const runs = new Map<string, PendingRun>();
  return {
    list: () => [...runs.values()].map((run) => ({ ...run })),
    put: (run) => void runs.set(run.runId, { ...run }),
    remove: (runId) => void runs.delete(runId),
  };
}

/**
 * Pending runs in `localStorage` under `key`, shared by the tabs of one origin. Falls
 * back to memory where there is no localStorage.
 *
 * @example
 * const convo = createConvoClient({ baseUrl, token, pendingRuns: localStoragePendingRuns("my-app") });
 */
export function localStoragePendingRuns(key = "convo:pending-runs"): PendingRunStore {
  const storage = browserStorage();
  if (!storage) return memoryPendingRuns();
  const read = (): Record<string, PendingRun> => {
    try {
      const parsed = JSON.parse(storage.getItem(key) ?? "{}") as unknown;
      return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, PendingRun>) : {};
    } catch {
      // Someone else's value under our key: start over rather than fail every page load.
      return {};
    }
  };
  const write = (runs: Record<string, PendingRun>) => storage.setItem(key, JSON.stringify(runs));
  return {
    list: () => Object.values(read()),
    put(run) {
      const runs = read();
      runs[run.runId] = { ...run };
      write(runs);
    },
    remove(runId) {
      const runs = read();
      delete runs[runId];
      write(runs);
    },
  };
}

/**
 * localStorage in a browser, memory elsewhere (what `createConvoClient` uses when given no store).
 *
 * @example
 * const store = defaultPendingRuns();
 * for (const run of store.list()) console.log(run.runId, run.after);
 */
export function defaultPendingRuns(): PendingRunStore {
  return browserStorage() ? localStoragePendingRuns() : memoryPendingRuns();
}

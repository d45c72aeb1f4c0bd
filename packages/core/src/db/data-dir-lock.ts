/**
 * PGlite takes no lock on its data directory, and two processes writing one directory
 * corrupt it. This lock is a file holding the owner's pid, created with O_EXCL. A lock
 * whose process is gone (crash, kill -9) is taken over at once, so a restart after a
 * crash needs no waiting — which is why this is not `proper-lockfile`, whose mtime
 * staleness makes a restarted node wait out the stale period.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DataDirectoryLockedError } from "../errors.js";

const LOCK_FILE = "convo.lock";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else — still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock on `dataDir` for this process; answers the function that releases it. */
export function lockDataDirectory(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off("exit", release);
        if (readOwner(path) === process.pid) rmSync(path, { force: true });
      };
      process.on("exit", release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = readOwner(path);
      if (owner !== undefined && owner !== process.pid && processAlive(owner)) {
        throw new DataDirectoryLockedError(dataDir, owner);
      }
      if (owner === process.pid) throw new DataDirectoryLockedError(dataDir, owner);
      // Stale (owner dead) or half-written: remove and try again.
      rmSync(path, { force: true });
    }
  }
  throw new DataDirectoryLockedError(dataDir, readOwner(path) ?? -1);
}

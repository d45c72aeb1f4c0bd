/**
 * A throwaway PostgreSQL cluster for the soak suite: initdb and pg_ctl from the
 * machine's PostgreSQL binaries, run as the unprivileged `postgres` OS user when this
 * process is root (PostgreSQL refuses to run as root), in a temporary directory that
 * user owns, on its own port, with fsync on. It never touches the machine's own
 * server. `restartImmediate()` is the crash fault (`pg_ctl restart -m immediate`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"];

export interface Cluster {
  url: string;
  port: number;
  dir: string;
  /** `pg_ctl restart -m immediate` (a crash and recovery); resolves once it accepts connections. */
  restartImmediate(): void;
  stop(): void;
}

function binDir(): string {
  const found = BIN_DIRS.find((dir) => existsSync(join(dir, "initdb")));
  if (!found) throw new Error(`no PostgreSQL binaries in ${BIN_DIRS.join(", ")}`);
  return found;
}

/** Initialises and starts a cluster on `port` (55400–55499 by convention). */
export function startCluster(port: number): Cluster {
  const bin = binDir();
  const root = process.getuid?.() === 0;
  const base = mkdtempSync(join(tmpdir(), "convo-soak-pg-"));
  const dir = join(base, "data");
  let uid = 0;
  let gid = 0;
  if (root) {
    uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(base, uid, gid);
  }
  const run = (cmd: string, args: string[]) => {
    const full = root ? ["-u", "postgres", "--", join(bin, cmd), ...args] : args;
    const result = spawnSync(root ? "runuser" : join(bin, cmd), full, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  };
  run("initdb", ["-D", dir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=100`;
  const log = join(base, "postgres.log");
  run("pg_ctl", ["-D", dir, "-o", options, "-l", log, "-w", "-t", "60", "start"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir: base,
    restartImmediate() {
      run("pg_ctl", ["-D", dir, "-o", options, "-l", log, "-m", "immediate", "-w", "-t", "60", "restart"]);
    },
    stop() {
      try {
        run("pg_ctl", ["-D", dir, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
}

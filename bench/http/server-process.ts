/**
 * Servers in child processes, so the load generator and the server do not share one
 * event loop (on this 2-core machine each gets a core): `convo serve`, and the bare
 * `node:http` reference server of issue 10.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../packages/server/bin/convo.js", import.meta.url));
const REFERENCE = fileURLToPath(new URL("./reference-server.mjs", import.meta.url));
const FAKE_MODEL = fileURLToPath(new URL("../runs/fake-model-server.mjs", import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Spawns `args` with `env` and waits for the `listening on <url>` line. */
async function spawnListening(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  // BENCH_SERVER_NODE_ARGS adds node options the environment may not carry (`--cpu-prof` to profile a server).
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...extra, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let listening = false;
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      // Once it listens its log is read and dropped, as a log file would take it.
      if (listening) return;
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        listening = true;
        resolve(match[1] as string);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}: ${output.slice(-2000)}`)));
  });
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Starts `convo serve` with `env` (DATABASE_URL/CONVO_SCHEMA or CONVO_DATA_DIR) and waits for its URL. */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  // The server's defaults as shipped (log level, request logging, validation); only
  // the admin rate limit is raised, so a benchmark is not throttled, and sweeps are off.
  return spawnListening("convo serve", [BIN, "serve", "--port", "0", "--host", "127.0.0.1", "--sweep-interval", "0"], {
    ...process.env,
    CONVO_RATE_LIMIT_ADMIN: "100000000",
    ...env,
  });
}

/** Starts the bare reference server (bench/http/reference-server.mjs) on `REF_SCHEMA`. */
export function startReferenceServer(env: Record<string, string>): Promise<ServerProcess> {
  return spawnListening("reference server", [REFERENCE], { ...process.env, ...env });
}

/** Starts the benchmark's OpenAI-compatible model server (bench/runs/fake-model-server.mjs). */
export function startFakeModelServer(env: { FAKE_TOKENS: string; FAKE_INTERVAL_MS: string }): Promise<ServerProcess> {
  return spawnListening("fake model server", [FAKE_MODEL], { ...process.env, ...env });
}

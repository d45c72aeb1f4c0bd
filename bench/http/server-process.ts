/**
 * A `convo serve` in a child process, so the load generator and the server do not
 * share one event loop (on this 2-core machine each gets a core).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../packages/server/bin/convo.js", import.meta.url));

export interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

/** Starts `convo serve` with `env` (DATABASE_URL/CONVO_SCHEMA or CONVO_DATA_DIR) and waits for its URL. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, "serve", "--port", "0", "--host", "127.0.0.1", "--sweep-interval", "0"],
    {
      env: { ...process.env, CONVO_LOG_LEVEL: "warn", CONVO_RATE_LIMIT_ADMIN: "100000000", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1] as string);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`convo serve exited with ${code}: ${output.slice(-2000)}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

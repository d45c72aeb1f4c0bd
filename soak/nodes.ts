/**
 * `convo serve` nodes started by the soak suite, each on a fixed port so a restarted
 * node answers where the old one did. Only processes started here are ever signalled,
 * by their pid. A node that exits without having been told to is recorded: the suite
 * fails on it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../packages/server/bin/convo.js", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface NodeOptions {
  name: string;
  port: number;
  env: Record<string, string>;
  logDir: string;
}

export class SoakNode {
  child: ChildProcess | undefined;
  /** Exits this suite did not cause (kill -9 and SIGTERM are ours). */
  readonly unexpectedExits: string[] = [];
  #expectExit = false;
  #starts = 0;

  constructor(readonly options: NodeOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** Starts the node and resolves once it answers /readyz. */
  async start(): Promise<void> {
    this.#starts++;
    this.#expectExit = false;
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(CONVO_|DATABASE_URL$|PORT$|HOST$)/.test(key)) env[key] = value;
    }
    const log = createWriteStream(join(this.options.logDir, `${this.options.name}.${this.#starts}.log`));
    const child = spawn(process.execPath, [BIN, "serve", "--port", String(this.options.port)], {
      cwd: ROOT,
      env: { ...env, ...this.options.env, CONVO_NODE_ID: `${this.options.name}-${this.#starts}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    child.once("exit", (code, signal) => {
      if (!this.#expectExit) this.unexpectedExits.push(`${this.options.name} exited by itself (${code ?? signal})`);
      if (this.child === child) this.child = undefined;
    });
    for (;;) {
      if (!this.child) throw new Error(`${this.options.name} exited while starting; see ${this.options.logDir}`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** kill -9 (by pid): the crash fault. */
  kill9(): void {
    this.#expectExit = true;
    if (this.child?.pid) process.kill(this.child.pid, "SIGKILL");
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | string | null> {
    const child = this.child;
    if (!child?.pid) return null;
    this.#expectExit = true;
    const exited = new Promise<number | string | null>((resolve) =>
      child.once("exit", (code, signal) => resolve(code ?? signal)),
    );
    process.kill(child.pid, "SIGTERM");
    return exited;
  }
}

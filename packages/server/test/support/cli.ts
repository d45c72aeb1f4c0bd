/**
 * Runs the real `convo` command (packages/server/bin/convo.js) in child processes.
 * Every process started here is killed by `killAll()` (call it in afterEach).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/convo.js", import.meta.url));

const live = new Map<ChildProcess, Promise<unknown>>();

/** The environment without any Convo or database setting of the developer's shell. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(CONVO_|DATABASE_URL$|PORT$|HOST$|TEST_DATABASE_URL$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, CONVO_LOG_LEVEL: "warn", ...extra };
}

export interface Spawned {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
}

/** Starts `convo …args` from the repository root. */
export function spawnConvo(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? "unknown");
    });
  });
  live.set(child, exited);
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs `convo …args` to the end. */
export async function runConvo(args: string[], env?: NodeJS.ProcessEnv) {
  const p = spawnConvo(args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Starts `convo serve …args` and waits for the URL it prints. */
export async function serveConvo(args: string[], env?: NodeJS.ProcessEnv) {
  const p = spawnConvo(["serve", ...args], env);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /Convo is listening on (http:\/\/\S+)/.exec(p.stdout());
      if (match) {
        p.child.stdout?.off("data", check);
        resolve(match[1] as string);
      }
    };
    p.child.stdout?.on("data", check);
    p.exited.then((code) => reject(new Error(`convo serve exited (${code}):\n${p.stdout()}\n${p.stderr()}`)));
  });
  return { ...p, url };
}

/** Sends SIGTERM and waits for the exit code. */
export async function stop(p: Spawned): Promise<number | string> {
  p.child.kill("SIGTERM");
  return p.exited;
}

/** Kills every process still running (afterEach). */
export async function killAll(): Promise<void> {
  const waiting = [...live].map(([child, exited]) => {
    child.kill("SIGKILL");
    return exited;
  });
  await Promise.all(waiting);
}

/** Polls `fn` until it answers a truthy value (at most `tries` times, `everyMs` apart). */
export async function eventually<T>(fn: () => Promise<T>, tries = 150, everyMs = 200): Promise<T> {
  let last: T = await fn();
  for (let i = 0; i < tries && !last; i++) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await fn();
  }
  return last;
}

/** The sum of a Prometheus counter's samples matching `labels` in a /metrics text. */
export function counter(metrics: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Runs the SSE swarm worker (bench/runs/sse-swarm.mjs) and answers its results. */
import { Worker } from "node:worker_threads";

export interface SwarmResult {
  latencies: number[];
  ended: number;
  minEvents: number;
}

export function startSwarm(url: string, path: string, clients: number): { done: Promise<SwarmResult> } {
  const worker = new Worker(new URL("./sse-swarm.mjs", import.meta.url), {
    workerData: { url, path, clients },
  });
  const done = new Promise<SwarmResult>((resolve, reject) => {
    worker.on("message", (message: { type: string } & SwarmResult) => {
      if (message.type === "done") {
        resolve(message);
        void worker.terminate();
      }
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      if (code !== 0 && code !== 1) reject(new Error(`SSE swarm exited with ${code}`));
    });
  });
  return { done };
}

/**
 * A swarm of SSE clients in a worker thread (its own event loop, so the clients do not
 * slow the server they measure). Each client follows `path` until the stream ends and
 * records, for every token marker in a `delta` event, now − emit time. Plain
 * JavaScript: a worker thread does not inherit the tsx loader on Node 20.
 */
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";

const nowMs = () => performance.timeOrigin + performance.now();
const { url, path, clients } = workerData;
const base = new URL(url);
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

function follow() {
  return new Promise((resolve) => {
    const latencies = [];
    let events = 0;
    let buffer = "";
    const req = http.get(
      { agent, host: base.hostname, port: base.port, path, headers: { accept: "text/event-stream" } },
      (res) => {
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          const at = nowMs();
          buffer += chunk;
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf("\n\n");
            if (!block.includes("event: delta")) {
              if (/event: (thinking|done|error|cancelled)/.test(block)) events++;
              continue;
            }
            events++;
            for (const m of block.matchAll(/⟨(\d+\.\d+)⟩/g)) latencies.push(at - Number(m[1]));
          }
        });
        res.on("end", () => resolve({ latencies, events, ended: true }));
        res.on("error", () => resolve({ latencies, events, ended: false }));
      },
    );
    req.on("error", () => resolve({ latencies, events, ended: false }));
  });
}

const all = Array.from({ length: clients }, () => follow());
// Tell the main thread every client has sent its request (connections are accepted
// asynchronously; the main thread also waits for the server's stream count).
parentPort?.postMessage({ type: "connecting" });
const results = await Promise.all(all);
parentPort?.postMessage({
  type: "done",
  latencies: results.flatMap((r) => r.latencies),
  ended: results.filter((r) => r.ended).length,
  minEvents: Math.min(...results.map((r) => r.events)),
});

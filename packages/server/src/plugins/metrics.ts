/**
 * Prometheus metrics at `/metrics`: request latency by route and status, database
 * time per unit of work, open SSE streams, sweep results, plus Node's defaults.
 */
import type { SweepResult } from "@convo/core";
import type { Store } from "@convo/core/internal";
import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The server's Prometheus registry. `buildApp` makes one unless given one; pass your
 * own to share it with the sweep scheduler or to add metrics.
 *
 * @example
 * const metrics = new Metrics();
 * const { app } = await buildApp({ convo, metrics }); // serves /metrics, times the store
 * metrics.recordSweep(await convo.sweeps.runAll());
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: "convo_http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly dbDuration = new Histogram({
    name: "convo_db_unit_of_work_seconds",
    help: "Time spent in database units of work (transactions and single statements)",
    labelNames: ["kind", "outcome"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly sseStreams = new Gauge({
    name: "convo_sse_streams_open",
    help: "Server-sent event streams currently open",
    registers: [this.registry],
  });
  readonly sweepRows = new Counter({
    name: "convo_sweep_rows_total",
    help: "Rows changed by lifecycle sweeps",
    labelNames: ["sweep"] as const,
    registers: [this.registry],
  });
  readonly sweepRuns = new Counter({
    name: "convo_sweep_runs_total",
    help: "Lifecycle sweep runs by outcome (skipped = another node holds the lock)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  readonly backgroundErrors = new Counter({
    name: "convo_background_errors_total",
    help: "Failures of background work (after-commit hooks, NOTIFY, LISTEN, pool connections, heartbeats, run tails, runs) by source",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Times every unit of work of `store`. */
  observeStore(store: Store): void {
    store.observe = (kind, ms, ok) => this.dbDuration.observe({ kind, outcome: ok ? "ok" : "error" }, ms / 1000);
  }

  /** Counts the rows each sweep changed. */
  recordSweep(result: SweepResult): void {
    for (const [sweep, rows] of Object.entries(result)) this.sweepRows.inc({ sweep }, rows);
  }

  /** Adds the request timer and the `/metrics` route. */
  register(app: FastifyInstance): void {
    app.addHook("onResponse", (request, reply, done) => {
      const route = request.routeOptions.url ?? "unmatched";
      this.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
    app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
      reply.header("content-type", this.registry.contentType);
      return this.registry.metrics();
    });
  }
}

/**
 * The workloads `npm run bench` knows, in the order their sections appear in
 * docs/benchmarks.md. Each module exports `id`, `title` and `run({ quick })` (see
 * bench/lib/workload.ts); a new workload is one file in this folder plus one line here.
 */
import type { Workload } from "../lib/workload.js";
import * as analytics from "./analytics.js";
import * as http from "./http.js";
import * as runs from "./runs.js";
import * as w1 from "./w1.js";
import * as w2 from "./w2.js";
import * as w3 from "./w3.js";

export const workloads: Workload[] = [
  w1,
  w2,
  w3,
  http, // W1–W3 over HTTP (issue 3)
  runs, // W4, W5 (issue 4)
  analytics, // dialog analytics at 1,000,000 dialogs (issue 5)
];

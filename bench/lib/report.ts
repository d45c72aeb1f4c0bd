/** The comparison tables every workload section uses. */
import type { Comparison } from "./compare.js";
import type { Stats } from "./stats.js";
import { markdownTable, ms, ops, ratio } from "./table.js";

/** One row: an engine, what was measured, and the paired figures. */
export interface ComparisonRow {
  engine: string;
  case: string;
  comparison: Comparison;
}

const over = (a: Stats, b?: Stats) => (b ? ratio(a.opsPerSec / b.opsPerSec) : "–");
const cpuOver = (a: Stats, b?: Stats) => (b ? ratio(a.cpuMsPerOp / b.cpuMsPerOp) : "–");

/**
 * Formats rows as: engine, case, Convo p50/p99/ops/s/CPU per call, the minimal
 * reference's p50/p99/ops/s/CPU per call, then the throughput ratios Convo ÷ minimal
 * reference, Convo ÷ raw SQL on Convo's schema and Convo ÷ Mastra, and the CPU ratio
 * Convo ÷ reference.
 */
export function comparisonTable(rows: ComparisonRow[]): string {
  return markdownTable(
    [
      "engine",
      "case",
      "Convo p50 ms",
      "Convo p99 ms",
      "Convo ops/s",
      "Convo CPU ms/call",
      "ref p50 ms",
      "ref p99 ms",
      "ref ops/s",
      "ref CPU ms/call",
      "Convo ÷ ref",
      "CPU Convo ÷ ref",
      "Convo ÷ raw (same schema)",
      "Mastra ops/s",
      "Convo ÷ Mastra",
    ],
    rows.map(({ engine, case: name, comparison: c }) => [
      engine,
      name,
      ms(c.convo.p50),
      ms(c.convo.p99),
      ops(c.convo.opsPerSec),
      ms(c.convo.cpuMsPerOp),
      c.ref ? ms(c.ref.p50) : "–",
      c.ref ? ms(c.ref.p99) : "–",
      c.ref ? ops(c.ref.opsPerSec) : "–",
      c.ref ? ms(c.ref.cpuMsPerOp) : "–",
      over(c.convo, c.ref),
      cpuOver(c.convo, c.ref),
      ratio(c.ratio),
      c.mastra ? ops(c.mastra.opsPerSec) : "–",
      over(c.convo, c.mastra),
    ]),
    ["left", "left", ...Array<"right">(13).fill("right")],
  );
}

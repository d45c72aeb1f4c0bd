/** The comparison table every workload section uses. */
import type { Comparison } from "./compare.js";
import { markdownTable, ms, ops, ratio } from "./table.js";

/** One row: an engine, what was measured, and the paired figures. */
export interface ComparisonRow {
  engine: string;
  case: string;
  comparison: Comparison;
}

/**
 * Formats rows as: engine, case, Convo p50/p99/ops/s, raw p50/p99/ops/s, and
 * Convo ÷ raw throughput.
 */
export function comparisonTable(rows: ComparisonRow[]): string {
  return markdownTable(
    ["engine", "case", "Convo p50 ms", "Convo p99 ms", "Convo ops/s", "raw p50 ms", "raw p99 ms", "raw ops/s", "Convo ÷ raw"],
    rows.map(({ engine, case: name, comparison: c }) => [
      engine,
      name,
      ms(c.convo.p50),
      ms(c.convo.p99),
      ops(c.convo.opsPerSec),
      ms(c.raw.p50),
      ms(c.raw.p99),
      ops(c.raw.opsPerSec),
      ratio(c.ratio),
    ]),
    ["left", "left", "right", "right", "right", "right", "right", "right", "right"],
  );
}

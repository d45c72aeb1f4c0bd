/**
 * What PostgreSQL's planner does with a query, in one line ("Index Scan using
 * conversations_user_activity_idx"), so a section can show why a figure grows.
 */
import type { RawQuery } from "./engines.js";

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

function describe(node: PlanNode): string[] {
  const own = node["Index Name"]
    ? `${node["Node Type"]} using ${node["Index Name"]}`
    : node["Relation Name"]
      ? `${node["Node Type"]} on ${node["Relation Name"]}`
      : node["Node Type"];
  return [own, ...(node.Plans ?? []).flatMap(describe)];
}

/** The plan's nodes, outermost first, joined with " → " (Limit nodes left out). */
export async function planSummary(query: RawQuery, text: string, params: unknown[]): Promise<string> {
  const rows = await query(`EXPLAIN (FORMAT JSON) ${text}`, params);
  const value = Object.values(rows[0] ?? {})[0];
  const parsed = (typeof value === "string" ? JSON.parse(value) : value) as { Plan: PlanNode }[];
  return describe(parsed[0].Plan)
    .filter((node) => node !== "Limit")
    .join(" → ");
}

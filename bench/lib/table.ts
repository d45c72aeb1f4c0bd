/** A tiny Markdown table formatter and the number formats the sections share. */

export type Align = "left" | "right";

/**
 * Formats a Markdown table with padded columns (readable as plain text too).
 * `align` gives each column's alignment; missing entries are left-aligned.
 *
 * @example
 * markdownTable(["engine", "p50"], [["pglite", "0.21"]], ["left", "right"]);
 */
export function markdownTable(header: string[], rows: string[][], align: Align[] = []): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (text: string, i: number) => (align[i] === "right" ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map((c, i) => cell(c, i)).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === "right" ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return [line(header), rule, ...rows.map((r) => line(header.map((_, i) => r[i] ?? "")))].join("\n");
}

/** Milliseconds with three significant-ish decimals (0.123, 1.23, 12.3). */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (value < 1) return value.toFixed(3);
  if (value < 10) return value.toFixed(2);
  return value.toFixed(1);
}

/** Operations per second, whole numbers with thousands separators. */
export function ops(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "–";
}

/** A ratio as `0.95×`. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "–";
}

/** An integer with thousands separators. */
export function count(value: number): string {
  return value.toLocaleString("en-US");
}

/** CSV (RFC 4180) of a table, and a download of it. */

export type Cell = string | number | null;

const cell = (value: Cell) => {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * @example
 * toCsv(["goal", "count"], [["стикер с котом", 3]]) // "goal,count\r\nстикер с котом,3\r\n"
 */
export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** Saves `csv` as a file named `name` (UTF-8 with a BOM, so spreadsheets read Cyrillic right). */
export function downloadCsv(name: string, csv: string): void {
  const url = URL.createObjectURL(new Blob(["\uFEFF", csv], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/**
 * docs/benchmarks.md is made of sections between HTML comment markers
 * (`<!-- bench:w1 -->` … `<!-- /bench:w1 -->`), so a run of some workloads replaces
 * their sections and keeps the others as they were measured.
 */

const SECTION = /<!-- bench:([a-z0-9_-]+) -->\n?([\s\S]*?)\n?<!-- \/bench:\1 -->/g;
const MEASURED = /^_Measured ([^_]*)_$/m;

/** The sections of an existing document, by id, in document order (content without markers). */
export function readSections(markdown: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const match of markdown.matchAll(SECTION)) sections.set(match[1], match[2]);
  return sections;
}

/** Wraps a section's content in its markers. */
export function wrapSection(id: string, content: string): string {
  return `<!-- bench:${id} -->\n${content.trim()}\n<!-- /bench:${id} -->`;
}

/**
 * Adds the "measured" line under a workload section's heading, so the date travels
 * with the section when a later partial run keeps it.
 */
export function stampSection(content: string, measured: string): string {
  const lines = content.trim().split("\n");
  const stamp = `_Measured ${measured}_`;
  if (lines[0]?.startsWith("#")) return [lines[0], "", stamp, ...lines.slice(1)].join("\n");
  return [stamp, "", ...lines].join("\n");
}

/** When a kept section was measured, as its stamp says. */
export function measuredOf(content: string): string | undefined {
  return MEASURED.exec(content)?.[1];
}

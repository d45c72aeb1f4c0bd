// Measures what a first visit downloads: the entry chunk and every chunk it imports
// statically (lazy chunks, such as analytics, load later), minified by Vite, gzipped
// here. Writes dist/size.json and fails the build above the budget.
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 250 * 1024;
const dist = new URL("../dist/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL(".vite/manifest.json", dist), "utf8"));
const gz = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;

const firstLoad = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || firstLoad.has(chunk.file)) return;
  firstLoad.add(chunk.file);
  for (const dep of chunk.imports ?? []) visit(dep);
};
visit("index.html");

const js = [...firstLoad].filter((f) => f.endsWith(".js"));
const firstLoadBytes = js.reduce((sum, f) => sum + gz(f), 0);
const lazy = Object.values(manifest)
  .filter((c) => c.isDynamicEntry)
  .map((c) => ({ name: c.src ?? c.name, file: c.file, gzipBytes: gz(c.file) }));
const report = { firstLoadJsGzipBytes: firstLoadBytes, budgetBytes: BUDGET, firstLoadFiles: js, lazy };
writeFileSync(new URL("size.json", dist), `${JSON.stringify(report, null, 2)}\n`);

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
console.log(`first-load JS (min+gzip): ${kb(firstLoadBytes)} of ${kb(BUDGET)} budget`);
for (const c of lazy) console.log(`  lazy ${c.name}: ${kb(c.gzipBytes)}`);
if (firstLoadBytes > BUDGET) {
  console.error(`first-load JS is over the ${kb(BUDGET)} budget`);
  process.exit(1);
}

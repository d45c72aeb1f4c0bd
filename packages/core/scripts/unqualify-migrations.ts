/**
 * drizzle-kit writes `REFERENCES "public"."x"` into generated migrations. Convo runs
 * its migrations inside whatever schema the store is configured with (search_path),
 * so the qualifier is removed after every `drizzle-kit generate`.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../migrations/", import.meta.url).pathname;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql"))) {
  const path = join(dir, file);
  const text = readFileSync(path, "utf8");
  const fixed = text.replaceAll('"public".', "");
  if (fixed !== text) {
    writeFileSync(path, fixed);
    console.log(`unqualified ${file}`);
  }
}

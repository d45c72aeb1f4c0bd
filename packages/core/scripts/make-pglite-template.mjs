/**
 * Build step: a migrated, empty PGlite data directory as a gzipped tarball
 * (template/pglite-data.tar.gz). A fresh data directory is restored from it instead of
 * running PostgreSQL's initdb in WebAssembly, which is most of a first `convo serve`'s
 * start-up; migrations still run at open and apply whatever the template lacks.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { openEngine } from "../dist/internal.js";

const client = await PGlite.create("memory://");
const engine = await openEngine({ pglite: client });
await engine.close();
const dump = await client.dumpDataDir("gzip");
await client.close();
const target = new URL("../template/", import.meta.url);
mkdirSync(target, { recursive: true });
writeFileSync(new URL("pglite-data.tar.gz", target), Buffer.from(await dump.arrayBuffer()));
console.log(`PGlite template: ${(dump.size / 1024 / 1024).toFixed(1)} MiB`);

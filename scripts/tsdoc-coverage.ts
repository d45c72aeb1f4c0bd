/**
 * Lists the exported functions and classes of each package's entry points that lack
 * TSDoc with an `@example` (STYLE.md: TSDoc on the public surface). Used by
 * packages/core/test/tsdoc.test.ts; run alone to see the gaps:
 *
 *   npx tsx scripts/tsdoc-coverage.ts
 */
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The entry points whose exports are the public surface. */
export const ENTRY_POINTS = [
  "packages/protocol/src/index.ts",
  "packages/core/src/index.ts",
  "packages/core/src/internal.ts",
  "packages/server/src/index.ts",
  "packages/telegram/src/index.ts",
  "packages/telegram/src/bot/index.ts",
  "packages/client/src/index.ts",
];

export interface Gap {
  name: string;
  file: string;
  kind: "function" | "class";
}

/** Exported functions and classes reachable from the entry points without TSDoc and an example. */
export function tsdocGaps(entryPoints = ENTRY_POINTS): Gap[] {
  const files = entryPoints.map((f) => `${root}/${f}`);
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    customConditions: ["@convo/source"],
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const gaps = new Map<string, Gap>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`${file} not found`);
    const module = checker.getSymbolAtLocation(source);
    if (!module) continue;
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      for (const decl of symbol.declarations ?? []) {
        const kind = ts.isFunctionDeclaration(decl) ? "function" : ts.isClassDeclaration(decl) ? "class" : undefined;
        const isConstFunction =
          ts.isVariableDeclaration(decl) &&
          decl.initializer !== undefined &&
          (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer));
        if (!kind && !isConstFunction) continue;
        const declFile = decl.getSourceFile().fileName;
        if (declFile.includes("node_modules")) continue;
        const host = isConstFunction ? decl.parent.parent : decl;
        const docs = ts.getJSDocCommentsAndTags(host);
        const text = docs.map((d) => d.getText()).join("\n");
        if (!text.includes("@example")) {
          const rel = declFile.slice(root.length);
          gaps.set(`${rel}#${symbol.name}`, { name: symbol.name, file: rel, kind: kind ?? "function" });
        }
      }
    }
  }
  return [...gaps.values()].sort((a, b) => a.file.localeCompare(b.file) || a.name.localeCompare(b.name));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const gaps = tsdocGaps();
  for (const gap of gaps) console.log(`${gap.file}  ${gap.kind} ${gap.name}`);
  console.log(`${gaps.length} exported functions and classes without TSDoc and an example`);
}

/**
 * The import boundaries (.dependency-cruiser.cjs, docs/architecture.md): the real tree
 * has no violation, and every rule fires on a deliberate violation in a scratch tree
 * laid out like the project — so a rule that silently stopped matching fails here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cruise, type IForbiddenRuleType } from "dependency-cruiser";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const config = createRequire(import.meta.url)(join(root, ".dependency-cruiser.cjs")) as {
  forbidden: IForbiddenRuleType[];
  options: Record<string, unknown>;
};

async function violations(
  baseDir: string,
  options: Record<string, unknown>,
): Promise<{ rule: string; from: string; to: string }[]> {
  const previous = process.cwd();
  process.chdir(baseDir);
  try {
    const result = await cruise(["packages"], { ...options, ruleSet: { forbidden: config.forbidden }, validate: true });
    const output = result.output as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
    return output.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
  } finally {
    process.chdir(previous);
  }
}

describe("import boundaries", () => {
  const scratch = mkdtempSync(join(tmpdir(), "convo-boundaries-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("finds no violation in the project", async () => {
    expect(await violations(root, config.options)).toEqual([]);
  });

  it("fails on each forbidden import in a tree laid out like the project", async () => {
    const files: Record<string, string> = {
      // protocol importing the core
      "packages/protocol/src/index.ts": 'import "../../core/src/index";\nexport const x = 1;\n',
      // the core importing the server
      "packages/core/src/index.ts": 'import "../../server/src/app";\nimport "./users/index";\nexport {};\n',
      "packages/server/src/app.ts": "export const app = 1;\n",
      // a repository importing a service
      "packages/core/src/users/repository.ts": 'import { s } from "./service";\nexport const r = s;\n',
      "packages/core/src/users/service.ts": "export const s = 1;\n",
      "packages/core/src/users/index.ts": 'export * from "./service";\n',
      // a feature reaching into another feature past its index
      "packages/core/src/messages/service.ts": 'import { r } from "../users/repository";\nexport const m = r;\n',
      // the ground floor importing a feature
      "packages/core/src/errors.ts": 'import { m } from "./messages/service";\nexport const e = m;\n',
      // a runtime cycle
      "packages/core/src/state/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
      "packages/core/src/state/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    }
    const found = await violations(scratch, { tsPreCompilationDeps: true, enhancedResolveOptions: { extensions: [".ts"] } });
    const rules = new Set(found.map((v) => v.rule));
    expect(rules).toEqual(
      new Set([
        "protocol-imports-nothing-of-ours",
        "core-never-imports-server",
        "repositories-never-import-services",
        "features-meet-at-their-index",
        "ground-floor-imports-no-feature",
        "no-runtime-cycles",
      ]),
    );
    expect(found).toContainEqual({
      rule: "repositories-never-import-services",
      from: "packages/core/src/users/repository.ts",
      to: "packages/core/src/users/service.ts",
    });
  });
});

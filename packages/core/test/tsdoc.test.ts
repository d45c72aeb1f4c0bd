/**
 * Every exported function and class of the packages' entry points carries TSDoc with
 * an `@example` (STYLE.md). scripts/tsdoc-coverage.ts lists the gaps when this fails.
 */
import { describe, expect, it } from "vitest";
import { tsdocGaps } from "../../../scripts/tsdoc-coverage.js";

describe("public surface", () => {
  it("documents every exported function and class with an example", { timeout: 120_000 }, () => {
    expect(tsdocGaps().map((gap) => `${gap.file} ${gap.kind} ${gap.name}`)).toEqual([]);
  });
});

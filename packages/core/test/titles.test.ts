import { describe, expect, it } from "vitest";
import { dateTitle, heuristicTitle, stripMarkup } from "../src/conversations/titles.js";

const codePoints = (s: string) => [...s].length;

describe("heuristicTitle", () => {
  it("keeps a short message as it is", () => {
    expect(heuristicTitle("Сделай стикер с котом")).toBe("Сделай стикер с котом");
  });

  it("cuts Russian text at a word boundary within 30 characters", () => {
    const title = heuristicTitle("Привет! Хочу сделать стикер из фотографии моей собаки на пляже")!;
    expect(codePoints(title)).toBeLessThanOrEqual(30);
    expect(title).toBe("Привет! Хочу сделать стикер…");
    expect(title.endsWith("…")).toBe(true);
  });

  it("never splits an emoji or a ZWJ sequence", () => {
    const family = "👨‍👩‍👧‍👦";
    const title = heuristicTitle(`${"🐱".repeat(20)} ${family.repeat(5)}`)!;
    expect(codePoints(title)).toBeLessThanOrEqual(30);
    expect(title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(title.startsWith("🐱".repeat(20))).toBe(true);
    const noSpaces = heuristicTitle(family.repeat(10))!;
    expect(codePoints(noSpaces)).toBeLessThanOrEqual(30);
    expect(noSpaces.replace("…", "")).toBe(family.repeat(4));
  });

  it("cuts a 200-character message to at most 30 characters", () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`)
      .join(" ")
      .padEnd(200, "x");
    const title = heuristicTitle(words)!;
    expect(codePoints(title)).toBeLessThanOrEqual(30);
    expect(title).toBe("w0 w1 w2 w3 w4 w5 w6 w7 w8 w9…");
    const oneWord = heuristicTitle("a".repeat(200))!;
    expect(oneWord).toBe(`${"a".repeat(29)}…`);
  });

  it("strips Markdown, HTML and links", () => {
    expect(stripMarkup("**Жирный** _курсив_ `код` [ссылка](https://x.y) <b>тег</b>")).toBe("Жирный курсив код ссылка тег");
    expect(heuristicTitle("## Заголовок\n\n> цитата")).toBe("Заголовок цитата");
    expect(heuristicTitle("***")).toBeUndefined();
  });
});

describe("dateTitle", () => {
  it("formats as '21 Nov 2026' in UTC", () => {
    expect(dateTitle(new Date("2026-11-21T23:30:00Z"))).toBe("21 Nov 2026");
    expect(dateTitle(new Date("2026-01-05T00:00:00Z"))).toBe("05 Jan 2026");
  });
});

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

  it("cuts plain Latin and Cyrillic text (no Intl.Segmenter) exactly as grapheme by grapheme", () => {
    // The reference: the same rule over Intl.Segmenter's graphemes of the whole text.
    const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
    const reference = (message: string) => {
      const text = stripMarkup(message);
      let cut = "";
      let lastWordEnd = 0;
      for (const { segment } of segmenter.segment(text)) {
        if (codePoints(cut) + codePoints(segment) > 29) {
          if (/\s/.test(segment)) lastWordEnd = cut.length;
          break;
        }
        if (/\s/.test(segment)) lastWordEnd = cut.length;
        cut += segment;
      }
      return `${(lastWordEnd > 0 ? cut.slice(0, lastWordEnd) : cut).replace(/[\s,.;:!?—–-]+$/u, "")}…`;
    };
    const samples = [
      "user message 3: can you turn my cat photo into a sticker with a happy face?",
      "Помоги придумать подарок маме на день рождения, она любит цветы",
      "Ελληνικά γράμματα και λέξεις που είναι αρκετά μεγάλες για τίτλο",
      "exactly twenty-nine characte and then more words after it",
      "ñandú «кавычки» — тире… и ещё много слов, чтобы не влезло",
      "combining e\u0301 e\u0301 e\u0301 marks in a long enough message here",
      "tabs\tand 🐱 emoji 👨‍👩‍👧‍👦 in a long enough message to be cut",
    ];
    for (const text of samples) expect(heuristicTitle(text)).toBe(reference(text));
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

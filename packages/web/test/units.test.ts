/** The web app's pure helpers: CSV, the analytics query, relative times. */
import { describe, expect, it } from "vitest";
import { toCsv } from "../src/analytics/csv.js";
import { analyticsQuery } from "../src/analytics/query.js";
import { relativeTime } from "../src/format.js";

describe("web helpers", () => {
  it("writes RFC 4180 CSV: quotes, commas, line breaks and Cyrillic kept", () => {
    expect(
      toCsv(
        ["goal", "dialogs"],
        [
          ["стикер с котом", 3],
          ['a "quoted", one', 1],
          ["two\nlines", null],
        ],
      ),
    ).toBe('goal,dialogs\r\nстикер с котом,3\r\n"a ""quoted"", one",1\r\n"two\nlines",\r\n');
  });

  it("asks the API for whole UTC days, the last one included", () => {
    expect(analyticsQuery({ env: "", from: "", to: "" })).toEqual({});
    expect(analyticsQuery({ env: "prod", from: "2026-11-01", to: "2026-11-30" })).toEqual({
      env: "prod",
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-12-01T00:00:00.000Z",
    });
    expect(analyticsQuery({ env: "", from: "", to: "2024-02-28" }).to).toBe("2024-02-29T00:00:00.000Z");
  });

  it("says how long ago, in words", () => {
    const now = Date.parse("2026-12-04T12:00:00Z");
    expect(relativeTime("2026-12-04T11:59:58Z", now)).toBe("just now");
    expect(relativeTime("2026-12-04T11:55:00Z", now)).toMatch(/5 minutes ago/);
    expect(relativeTime("2026-12-03T12:00:00Z", now)).toMatch(/yesterday|1 day ago/);
  });
});

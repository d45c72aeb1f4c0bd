import { describe, expect, it } from "vitest";
import { formatSse } from "../src/sse.js";

describe("formatSse", () => {
  it("writes id, event and one data line per line of data", () => {
    expect(formatSse({ id: 3, event: "delta", data: '{"content":"При"}' })).toBe(
      'event: delta\nid: 3\ndata: {"content":"При"}\n\n',
    );
    expect(formatSse({ data: "a\nb\r\nc\rd" })).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n");
    expect(formatSse({ data: "", retry: 1500 })).toBe("retry: 1500\ndata: \n\n");
  });

  it("refuses CR or LF in event names and ids", () => {
    expect(() => formatSse({ event: "a\nb", data: "x" })).toThrow();
    expect(() => formatSse({ id: "1\r2", data: "x" })).toThrow();
  });
});

import { describe, expect, it } from "vitest";
import { ModelRegistry } from "../src/runs/models.js";

describe("the model registry", () => {
  it("makes a provider's model once per id and hands the same one to every run", async () => {
    const models = new ModelRegistry({ env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" } });
    const first = await models.resolve("openai:gpt-4o-mini");
    expect(first.modelId).toBe("gpt-4o-mini");
    expect(await models.resolve("openai:gpt-4o-mini")).toBe(first);
    const other = await models.resolve("openai:other");
    expect(other).not.toBe(first);
    expect(other.modelId).toBe("other");
  });

  it("refuses an unknown or unconfigured model with UNKNOWN_MODEL, every time", async () => {
    const models = new ModelRegistry({ env: {} });
    for (let i = 0; i < 2; i++) {
      expect(() => models.resolve("openai:gpt-4o-mini")).toThrow(expect.objectContaining({ code: "UNKNOWN_MODEL" }));
      expect(() => models.resolve("nope:x")).toThrow(expect.objectContaining({ code: "UNKNOWN_MODEL" }));
    }
    expect((await models.resolve("offline")).modelId).toBe("offline");
  });
});

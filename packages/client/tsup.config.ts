import { defineConfig } from "tsup";

// ESM with declarations; @convo/protocol is imported for types only, so nothing of it
// (nor Zod) is bundled, and eventsource-parser stays a dependency.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
  tsconfig: "tsconfig.build.json",
});

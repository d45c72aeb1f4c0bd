import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources in tests (the "@convo/source"
  // export condition); the `convo` bin and installed tarballs use the built dist.
  resolve: { conditions: ["@convo/source"] },
  ssr: { resolve: { conditions: ["@convo/source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // PGlite takes seconds to start and real servers are spawned: generous timeouts,
    // but no test asserts on time.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
    // Every response is checked strictly against its route's schema in the tests
    // (production only serialises; packages/server/src/serializer.ts).
    env: { CONVO_VALIDATE_RESPONSES: "true" },
  },
});

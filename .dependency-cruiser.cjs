/**
 * The import boundaries of Convo (docs/architecture.md), checked in CI by
 * `npm run boundaries`. packages/core/test/boundaries.test.ts proves each rule fires
 * on a deliberate violation.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "protocol-imports-nothing-of-ours",
      comment:
        "@convo/protocol is the wire contract: browser-safe, it imports no other package of the project and no Node built-in.",
      severity: "error",
      from: { path: "^packages/protocol/src" },
      to: {
        path: "^packages/(?!protocol/)|^node_modules/@convo/(?!protocol)|^(node:)?(fs|path|crypto|os|net|http|child_process|async_hooks)$",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "protocol-types-only-from-zod",
      comment: "The protocol depends on zod alone.",
      severity: "error",
      from: { path: "^packages/protocol/src" },
      to: {
        dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown"],
        pathNot: "^node_modules/zod/",
      },
    },
    {
      name: "core-never-imports-server",
      comment: "The library knows nothing of HTTP, the web app or the Telegram toolkit.",
      severity: "error",
      from: { path: "^packages/core/src" },
      to: { path: "^packages/(server|client|web|telegram)/|^node_modules/@convo/(server|client|web|telegram)" },
    },
    {
      name: "client-is-browser-safe",
      comment: "@convo/client speaks HTTP only: no core, no server, no database or provider code.",
      severity: "error",
      from: { path: "^packages/client/src" },
      to: {
        path: "^packages/(core|server|telegram|web)/|^node_modules/(@convo/(core|server|telegram)|pg|@electric-sql|drizzle-orm|@ai-sdk)(/|$)",
      },
    },
    {
      name: "features-meet-at-their-index",
      comment: "A core feature reaches another feature only through that feature's index.ts (or its types.ts, the ground floor).",
      severity: "error",
      from: { path: "^packages/core/src/([^/]+)/" },
      to: {
        path: "^packages/core/src/([^/]+)/.+",
        pathNot: ["^packages/core/src/$1/", "^packages/core/src/[^/]+/(index|types)\\.ts$", "^packages/core/src/db/"],
      },
    },
    {
      name: "repositories-never-import-services",
      comment: "SQL sits below the use cases: a repository imports no service.",
      severity: "error",
      from: { path: "repository\\.ts$" },
      to: { path: "service\\.ts$|/index\\.ts$" },
    },
    {
      name: "types-are-the-ground-floor",
      comment: "A feature's types.ts imports no repository or service (repositories import types, never the reverse).",
      severity: "error",
      from: { path: "/types\\.ts$" },
      to: { path: "(repository|service)\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "ground-floor-imports-no-feature",
      comment: "The engine, errors, validation and cursors are below every feature.",
      severity: "error",
      from: { path: "^packages/core/src/(db/|errors\\.ts|validation\\.ts|cursor\\.ts|config\\.ts)" },
      to: { path: "^packages/core/src/(?!db/|errors\\.ts|validation\\.ts|cursor\\.ts|config\\.ts)" },
    },
    {
      name: "no-runtime-cycles",
      comment: "Modules form no cycle at run time (type-only imports are erased and may point back).",
      severity: "error",
      from: { path: "^packages/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|test|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["@convo/source", "import", "types", "default"],
      extensions: [".ts", ".tsx", ".js", ".d.ts"],
    },
    combinedDependencies: false,
  },
};

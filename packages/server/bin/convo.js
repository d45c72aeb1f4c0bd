#!/usr/bin/env node
// The `convo` command: the built JavaScript of src/cli/main.ts (npm ci builds it).
await import("../dist/cli/main.js");

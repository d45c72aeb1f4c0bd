#!/usr/bin/env node
// The `convo` command. Convo ships TypeScript sources; tsx compiles them on load.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");

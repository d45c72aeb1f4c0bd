import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig } from "vite";

// `vite dev` proxies the API to a `convo serve` on 8787; the build is served by it.
const api = process.env.CONVO_URL ?? "http://127.0.0.1:8787";

export default defineConfig({
  plugins: [react()],
  // The workspace packages (@convo/client, @convo/protocol) are bundled from their sources.
  resolve: { conditions: ["@convo/source", ...defaultClientConditions] },
  build: { outDir: "dist", emptyOutDir: true, manifest: true, target: "es2022", sourcemap: false },
  server: { proxy: { "/v1": api, "/healthz": api } },
});

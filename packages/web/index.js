/**
 * Where the built web app lives, for the server that serves it (`convo serve`).
 * The browser code itself is in `src/`; `npm run build -w @convo/web` writes `dist/`.
 *
 * @example
 * import { webRoot } from "@convo/web";
 * app.register(fastifyStatic, { root: webRoot });
 */
import { fileURLToPath } from "node:url";

/** Absolute path of the built app (`dist/`, made by the package's build). */
export const webRoot = fileURLToPath(new URL("./dist/", import.meta.url));

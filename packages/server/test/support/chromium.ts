/**
 * Debian's Chromium under playwright-core, for every browser test of the project
 * (the client's, the chat's and the web app's): no browser download works here, and
 * without the background-networking flags Chromium keeps dialling Google's hosts.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Where Debian's `chromium` package puts the browser (.ci/run installs it). */
export const CHROMIUM = "/usr/bin/chromium";

/** Launches headless Chromium, or fails with what to install. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

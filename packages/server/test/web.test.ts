/**
 * The web app at `/`: the built files of `@convo/web`, its client-side routes answered
 * with index.html, and the API's own paths untouched; no credentials needed for the
 * app itself. And `GET /v1/users`, the operator's user picker.
 */
import { readdirSync } from "node:fs";
import { webRoot } from "@convo/web";
import { beforeAll, describe, expect, it } from "vitest";
import { engines, startTestServer, warmUp } from "./support/server.js";

beforeAll(warmUp);

const html = { accept: "text/html,application/xhtml+xml" };

describe.each(engines)("web app and user list on %s", (engine) => {
  it("serves the app at / and its routes, without credentials, and leaves the API's paths alone", async () => {
    const { api } = await startTestServer(engine);
    const root = await api("GET", "/", { token: null, headers: html });
    expect(root.status).toBe(200);
    expect(root.headers.get("content-type")).toContain("text/html");
    expect(root.text).toContain('<div id="root">');
    expect(root.headers.get("cache-control")).toBe("no-cache");

    // A client-side route opened directly (a bookmark, a reload) gets the app.
    const route = await api("GET", "/c/6f1c5a8e-2d7b-4c1e-9a3f-0b8d7e6c5a41", { token: null, headers: html });
    expect(route.status).toBe(200);
    expect(route.text).toBe(root.text);

    const asset = readdirSync(`${webRoot}assets`).find((f) => f.endsWith(".js")) as string;
    const js = await api("GET", `/assets/${asset}`, { token: null });
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(js.headers.get("cache-control")).toContain("immutable");

    // The API keeps its JSON 404 and its auth, even for a browser asking for HTML.
    const unknownApi = await api("GET", "/v1/nothing-here", { headers: html });
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.json.error.code).toBe("ROUTE_NOT_FOUND");
    expect((await api("GET", "/v1/users", { token: null, headers: html })).status).toBe(401);
    const missingFile = await api("GET", "/missing.js", { token: null });
    expect(missingFile.status).toBe(404);
    expect(missingFile.json.error.code).toBe("ROUTE_NOT_FOUND");
    expect((await api("POST", "/c/x", { token: null, headers: html, body: {} })).status).toBe(404);
    expect((await api("GET", "/openapi.json", { token: null, headers: html })).json.openapi).toMatch(/^3\.1/);
    expect((await api("GET", "/docs", { token: null, headers: html })).text.toLowerCase()).toContain("swagger");
    expect((await api("GET", "/healthz", { token: null, headers: html })).json).toEqual({ status: "ok" });
  });

  it("lists users newest first by cursor for admin keys; end users do not see the route; bad input is a 4xx", async () => {
    const { api, createUser, token } = await startTestServer(engine);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createUser({ displayName: `user ${i}` }));
    const first = await api("GET", "/v1/users?limit=3");
    expect(first.status).toBe(200);
    expect(first.json.users.map((u: { displayName: string }) => u.displayName)).toEqual(["user 4", "user 3", "user 2"]);
    expect(first.json.hasMore).toBe(true);
    const second = await api("GET", `/v1/users?limit=3&cursor=${first.json.nextCursor}`);
    expect(second.json.users.map((u: { displayName: string }) => u.displayName)).toEqual(["user 1", "user 0"]);
    expect(second.json).toMatchObject({ hasMore: false, nextCursor: null });

    const asUser = await api("GET", "/v1/users", { token: await token(made[0].id) });
    expect(asUser.status).toBe(404);
    const badCursor = await api("GET", "/v1/users?cursor=not-a-cursor");
    expect(badCursor.status).toBe(400);
    expect(badCursor.json.error.code).toBe("INVALID_CURSOR");
    expect((await api("GET", "/v1/users?limit=0")).status).toBe(422);
    expect((await api("GET", "/v1/users?limit=abc")).status).toBe(400);
    expect((await api("GET", "/v1/users?unknown=1")).status).toBe(400);
  });
});

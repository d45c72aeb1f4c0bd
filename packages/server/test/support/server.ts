/**
 * A real Convo server on an ephemeral port for black-box tests, in the current test's
 * own schema (PGlite always, PostgreSQL when TEST_DATABASE_URL is set). Requests go
 * through global fetch; `dump()` reads every table so a test can prove a refused
 * request changed nothing.
 */
import { type Convo, type ConvoOptions, openConvo } from "@convo/core";
import { ApiKeysService } from "@convo/core/internal";
import { onTestFailed, onTestFinished } from "vitest";
import {
  dropSchema,
  type EngineName,
  engineOptions,
  engines,
  rawQuery,
  testClock,
  testSchemaName,
} from "../../../core/test/support/engines.js";
import { mintToken } from "../../src/auth/tokens.js";
import type { ServerConfig } from "../../src/config.js";
import { type RunningServer, startServer } from "../../src/server.js";

export { type EngineName, engines, rawQuery, testClock };

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined when the body is empty or not JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the API answered
  json: any;
  text: string;
  bytes: Buffer;
}

export interface RequestOptions {
  /** A JSON value to send (serialised with JSON.stringify). */
  body?: unknown;
  /** Bytes or text sent as they are, with Content-Type application/json unless set. */
  rawBody?: string | Uint8Array;
  /** Bearer credential; undefined = the server's admin key, null = no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
}

export type Api = (method: string, path: string, options?: RequestOptions) => Promise<ApiResponse>;

export interface TestServerOptions extends Partial<ServerConfig> {
  /** No admin key and no JWT secret: the server runs open (every caller is an admin). */
  open?: boolean;
  /** Options for opening Convo (e.g. a test clock). */
  convoOptions?: Partial<ConvoOptions>;
}

export interface TestServer {
  url: string;
  convo: Convo;
  server: RunningServer;
  /** The admin key created before start (undefined when open). */
  adminKey: string | undefined;
  /** The HS256 secret end-user tokens are signed with (undefined when open). */
  jwtSecret: string | undefined;
  api: Api;
  /** Mints an end-user token for `userId`. */
  token(userId: string, options?: { expiresIn?: string }): Promise<string>;
  /** Creates a user through the API (admin) and answers its JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON
  createUser(body?: Record<string, unknown>): Promise<any>;
  /** Every row of every table in the test's schema, as sorted JSON text per table. */
  dump(): Promise<Record<string, string[]>>;
}

/**
 * Starts the shared PGlite and runs the migrations once (in a throwaway schema), so the
 * first test of a file does not pay for it: call it in `beforeAll`.
 */
export async function warmUp(): Promise<void> {
  const schema = `warm_${process.pid}`;
  const convo = await openConvo(await engineOptions("pglite", schema));
  await convo.close();
  await dropSchema("pglite", schema);
}

/** Sends one request to `url` and reads the whole answer. */
export async function request(url: string, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["content-type"] = "application/json";
  }
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString("utf8");
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text, bytes };
}

/**
 * Starts a server for the current test: Convo in a fresh schema, an admin key and a JWT
 * secret (unless `open`), port 0 on 127.0.0.1, no logs, no sweeps. Stopped, closed and
 * its schema dropped when the test ends (the schema is kept when the test fails).
 * No sweeps and no webhook passes run on their own: tests call them.
 */
export async function startTestServer(engine: EngineName, overrides: TestServerOptions = {}): Promise<TestServer> {
  const { open = false, convoOptions, ...configOverrides } = overrides;
  const schema = testSchemaName();
  const convo = await openConvo({ ...(await engineOptions(engine, schema)), ...convoOptions });
  let server: RunningServer | undefined;
  let failed = false;
  onTestFailed(() => {
    failed = true;
    console.error(`[${engine}] test failed; its rows are kept in schema ${schema}`);
  });
  onTestFinished(async () => {
    await server?.close();
    await convo.close();
    if (!failed) await dropSchema(engine, schema);
  });

  const adminKey = open ? undefined : (await new ApiKeysService(convo.store).create("test admin")).key;
  const jwtSecret = open ? undefined : (configOverrides.jwtSecret ?? "test-secret-that-is-long-enough-for-hs256");
  server = await startServer(
    {
      dataDir: "unused (an open Convo is passed in)",
      port: 0,
      host: "127.0.0.1",
      bodyLimit: 1024 * 1024,
      rateLimitUser: 600,
      rateLimitAdmin: 120_000,
      corsOrigins: [],
      sweepIntervalMs: 0,
      webhookIntervalMs: 0,
      logLevel: "silent",
      ...configOverrides,
      jwtSecret,
    },
    { convo },
  );
  const { url } = server;
  const api: Api = (method, path, options = {}) =>
    request(url, method, path, { ...options, token: options.token === undefined ? adminKey : options.token });

  return {
    url,
    convo,
    server,
    adminKey,
    jwtSecret,
    api,
    token: (userId, options) => mintToken(jwtSecret as string, userId, options),
    async createUser(body = {}) {
      const res = await api("POST", "/v1/users", { body });
      if (res.status !== 201 && res.status !== 200) throw new Error(`create user: ${res.status} ${res.text}`);
      return res.json;
    },
    async dump() {
      const tables = await rawQuery<{ name: string }>(
        convo,
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY 1`,
      );
      const out: Record<string, string[]> = {};
      for (const { name } of tables) {
        const rows = await rawQuery<{ r: string }>(convo, `SELECT row_to_json(t)::text AS r FROM "${schema}"."${name}" t`);
        out[name] = rows.map((row) => row.r).sort();
      }
      return out;
    },
  };
}

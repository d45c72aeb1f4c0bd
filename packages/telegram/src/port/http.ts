/**
 * The port over HTTP: the same operations against a Convo server's documented API
 * (README, `GET /openapi.json`), with `fetch`. An admin API key acts for every user.
 *
 * Written against the HTTP API directly: the typed client SDK (`@convo/client`, issue
 * 11) reached this branch only after this adapter was written. Moving onto it changes
 * no caller of the port.
 */
import { TelegramConvoError } from "../errors.js";
import type { ConvoPort, PortDialog, PortRunEvent, PortUser } from "./types.js";

export interface HttpPortOptions {
  /** The server, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** An admin API key (`npx convo keys create my-bot`); omit for a server running open on loopback. */
  apiKey?: string;
  /** How long a run-events long poll waits, in seconds (default 25). */
  longPollSeconds?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

const RUN_ENDS = new Set(["done", "error", "cancelled"]);

/**
 * A port calling a Convo server over HTTP.
 *
 * @example
 * bot.use(convoMiddleware({ port: httpPort({ url: "http://127.0.0.1:8787", apiKey: process.env.CONVO_API_KEY }) }));
 */
export function httpPort(options: HttpPortOptions): ConvoPort {
  const base = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const wait = options.longPollSeconds ?? 25;

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    extra: { headers?: Record<string, string>; allow404?: boolean } = {},
  ): Promise<{ status: number; json: T }> {
    const headers: Record<string, string> = { ...extra.headers };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (cause) {
      throw new TelegramConvoError("CONVO_UNREACHABLE", `${method} ${path}: Convo is unreachable at ${base}`, { cause });
    }
    const text = await response.text();
    const json = text ? (JSON.parse(text) as T) : (undefined as T);
    if (response.status === 404 && extra.allow404) return { status: 404, json };
    if (response.status >= 400) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new TelegramConvoError(
        "CONVO_REQUEST_FAILED",
        `${method} ${path}: ${response.status} ${error?.message ?? text.slice(0, 200)}`,
        { status: response.status, convoCode: error?.code, cause: json },
      );
    }
    return { status: response.status, json };
  }
  const get = async <T>(path: string) => (await request<T>("GET", path)).json;
  const post = async <T>(path: string, body?: unknown) => (await request<T>("POST", path, body)).json;
  const dialog = (id: string) => `/v1/assistant-sessions/${encodeURIComponent(id)}`;
  const user = (id: string) => `/v1/users/${encodeURIComponent(id)}`;

  return {
    async ensureUser(input) {
      const { status, json } = await request<PortUser>("POST", "/v1/users", input);
      return { user: json, created: status === 201 };
    },
    updateUser: async (userId, patch) => (await request<PortUser>("PATCH", user(userId), patch)).json,
    async appendToCurrent(userId, { conversationKey, ...input }) {
      type Answer = { conversation: { id: string; externalId: string | null; messageCount: number } } & Record<string, unknown>;
      const { status, json } = await request<Answer>("POST", `${user(userId)}/messages`, {
        ...input,
        externalId: conversationKey,
      });
      const { conversation, conversationCreated: _created, ...message } = json;
      return { message: message as never, created: status === 201, conversation };
    },
    async append(_userId, conversationId, input) {
      const { status, json } = await request<never>(
        "POST",
        `/v1/conversations/${encodeURIComponent(conversationId)}/messages`,
        input,
      );
      return { message: json, created: status === 201 };
    },
    openConversation: (userId, key, env) => post(`${user(userId)}/conversations`, { externalId: key, env }),
    getState: async (_userId, conversationId) => {
      const state = await get<{ version: number; state?: Record<string, unknown>; doc?: Record<string, unknown> }>(
        `/v1/conversations/${encodeURIComponent(conversationId)}/state`,
      );
      return { version: state.version, doc: state.doc ?? state.state ?? {} };
    },
    replaceState: async (_userId, conversationId, doc, version) => {
      const { json } = await request<{ version: number; state?: Record<string, unknown>; doc?: Record<string, unknown> }>(
        "PUT",
        `/v1/conversations/${encodeURIComponent(conversationId)}/state`,
        doc,
        { headers: { "if-match": `"${version}"` } },
      );
      return { version: json.version, doc: json.doc ?? json.state ?? {} };
    },
    context: (userId, options = {}) => post(`${user(userId)}/context`, options),
    startRun: async (_userId, conversationId, input) => {
      const { status, json } = await request<{ runId: string }>(
        "POST",
        `/v1/conversations/${encodeURIComponent(conversationId)}/runs`,
        input,
      );
      return { runId: json.runId, created: status === 202 };
    },
    async *followRun(_userId, runId, after = 0): AsyncGenerator<PortRunEvent> {
      // Long polling rather than SSE: one request per batch of events, nothing to parse.
      let cursor = after;
      for (;;) {
        const page = await get<{ events: PortRunEvent[] }>(
          `/v1/runs/${encodeURIComponent(runId)}/events?after=${cursor}&wait=${wait}`,
        );
        for (const event of page.events) {
          cursor = event.seq;
          yield event;
          if (RUN_ENDS.has(event.type)) return;
        }
      }
    },
    dialogs: {
      create: (userId, input = {}) => post(`${user(userId)}/assistant-sessions`, input),
      async active(userId) {
        const { status, json } = await request<PortDialog>("GET", `${user(userId)}/assistant-sessions/active`, undefined, {
          allow404: true,
        });
        return status === 404 ? null : json;
      },
      update: async (_userId, id, update) => (await request<PortDialog>("PATCH", dialog(id), update)).json,
      close: (_userId, id, status) => post(`${dialog(id)}/close`, { status }),
      async closeActive(userId, status = "abandoned") {
        const active = await this.active(userId);
        if (!active) return null;
        try {
          return await post<PortDialog>(`${dialog(active.id)}/close`, { status });
        } catch (error) {
          // Closed meanwhile (the sweep, another tap): nothing left to close, as in the library.
          if (error instanceof TelegramConvoError && error.convoCode === "DIALOG_CLOSED") return null;
          throw error;
        }
      },
      recordModelError: (_userId, id) => post(`${dialog(id)}/errors`),
      recordModelSuccess: (_userId, id) => post(`${dialog(id)}/successes`),
      setPendingPhoto: (_userId, id, fileId) => post(`${dialog(id)}/pending-photo`, { fileId }),
      resolvePendingPhoto: (_userId, id, choice) => post(`${dialog(id)}/pending-photo/resolve`, { choice }),
      expireIdle: async () => (await post<{ expired: never[] }>("/v1/assistant-sessions/expire")).expired,
    },
  };
}

/**
 * The port over HTTP, on the typed client SDK (`@convo/client`): the same operations
 * against a Convo server, with the client's retries (idempotent calls, and appends by
 * their `clientMessageId`), typed errors and run following. An admin API key acts for
 * every user.
 */
import { ConvoApiError, type ConvoClient, createConvoClient } from "@convo/client";
import { TelegramConvoError } from "../errors.js";
import type { ConvoPort, PortConversation, PortDialog, PortMessage, PortRunEvent, PortUser } from "./types.js";

export interface HttpPortOptions {
  /** The server, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** An admin API key (`npx convo keys create my-bot`); omit for a server running open on loopback. */
  apiKey?: string;
  /** How long a run-events long poll waits, in seconds, where streaming is blocked (default 25). */
  longPollSeconds?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
  /** A client to use instead of one made from the options above. */
  client?: ConvoClient;
}

/** The client's error as the toolkit's: one error class for bot authors to branch on. */
function portError(error: unknown, what: string): unknown {
  if (!(error instanceof ConvoApiError)) return error;
  if (error.code === "NETWORK_ERROR") {
    return new TelegramConvoError("CONVO_UNREACHABLE", `${what}: Convo is unreachable (${error.message})`, { cause: error });
  }
  return new TelegramConvoError("CONVO_REQUEST_FAILED", `${what}: ${error.status} ${error.message}`, {
    status: error.status,
    convoCode: error.code,
    cause: error,
  });
}

/** Runs `fn`, answering the client's errors as TelegramConvoError. */
async function wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw portError(error, what);
  }
}

/**
 * A port calling a Convo server over HTTP.
 *
 * @example
 * bot.use(convoMiddleware({ port: httpPort({ url: "http://127.0.0.1:8787", apiKey: process.env.CONVO_API_KEY }) }));
 */
export function httpPort(options: HttpPortOptions): ConvoPort {
  const convo =
    options.client ??
    createConvoClient({ baseUrl: options.url.replace(/\/+$/, ""), token: options.apiKey, fetch: options.fetch });
  const pollWait = options.longPollSeconds ?? 25;
  const enc = encodeURIComponent;

  const port: ConvoPort = {
    ensureUser: (input) =>
      wrap("ensure user", async () => {
        // 201 for a new user, 200 for the one found by externalId.
        const { status, body } = await convo.request<PortUser>({
          method: "POST",
          path: "/v1/users",
          body: input,
          idempotent: true,
        });
        return { user: body, created: status === 201 };
      }),
    updateUser: (userId, patch) => wrap("update user", () => convo.users.update(userId, patch) as Promise<PortUser>),
    appendToCurrent: (userId, { conversationKey, ...input }) =>
      wrap("append to current", async () => {
        type Answer = PortMessage & { conversation: PortConversation; conversationCreated: boolean };
        const { status, body } = await convo.request<Answer>({
          method: "POST",
          path: `/v1/users/${enc(userId)}/messages`,
          body: { ...input, externalId: conversationKey },
          idempotent: input.clientMessageId !== undefined,
        });
        const { conversation, conversationCreated: _created, ...message } = body;
        return { message, created: status === 201, conversation };
      }),
    append: (_userId, conversationId, input) =>
      wrap("append", async () => {
        const { status, body } = await convo.request<PortMessage>({
          method: "POST",
          path: `/v1/conversations/${enc(conversationId)}/messages`,
          body: input,
          idempotent: input.clientMessageId !== undefined,
        });
        return { message: body, created: status === 201 };
      }),
    openConversation: (userId, key, env) =>
      wrap("open conversation", () => convo.conversations.create(userId, { externalId: key, env }) as Promise<PortConversation>),
    getState: (_userId, conversationId) =>
      wrap("read state", async () => {
        const { version, state } = await convo.state.get(conversationId);
        return { version, doc: state };
      }),
    replaceState: (_userId, conversationId, doc, version) =>
      wrap("replace state", async () => {
        const replaced = await convo.state.replace(conversationId, doc, version);
        return { version: replaced.version, doc: replaced.state };
      }),
    context: (userId, contextOptions = {}) => wrap("load context", () => convo.context.load(userId, contextOptions)),
    startRun: (_userId, conversationId, input) =>
      wrap("start run", async () => {
        // 202 for a new run, 200 for the run that already answers this message.
        const { status, body } = await convo.request<{ runId: string }>({
          method: "POST",
          path: `/v1/conversations/${enc(conversationId)}/runs`,
          body: input,
          idempotent: true,
        });
        return { runId: body.runId, created: status === 202 };
      }),
    async *followRun(_userId, runId, after = 0): AsyncGenerator<PortRunEvent> {
      try {
        // SSE with Last-Event-ID resumes (long polls where streaming is blocked); ends after the terminal event.
        for await (const event of convo.runs.follow(runId, { after, pollWaitSeconds: pollWait })) yield event as PortRunEvent;
      } catch (error) {
        throw portError(error, "follow run");
      }
    },
    dialogs: {
      create: (userId, input = {}) => wrap("start dialog", () => convo.dialogs.create(userId, input) as Promise<PortDialog>),
      active: (userId) =>
        wrap("active dialog", async () => {
          const { status, body } = await convo
            .request<PortDialog>({ method: "GET", path: `/v1/users/${enc(userId)}/assistant-sessions/active` })
            .catch((error: unknown) => {
              // No active dialog is an answer here, not a failure.
              if (error instanceof ConvoApiError && error.status === 404) return { status: 404, body: null };
              throw error;
            });
          return status === 404 ? null : body;
        }),
      update: (_userId, id, update) => wrap("update dialog", () => convo.dialogs.update(id, update) as Promise<PortDialog>),
      close: (_userId, id, status) => wrap("close dialog", () => convo.dialogs.close(id, { status }) as Promise<PortDialog>),
      async closeActive(userId, status = "abandoned") {
        const active = await port.dialogs.active(userId);
        if (!active) return null;
        try {
          return await port.dialogs.close(userId, active.id, status);
        } catch (error) {
          // Closed meanwhile (the sweep, another tap): nothing left to close, as in the library.
          if (error instanceof TelegramConvoError && error.convoCode === "DIALOG_CLOSED") return null;
          throw error;
        }
      },
      recordModelError: (_userId, id) =>
        wrap("count model error", () => convo.dialogs.recordError(id) as Promise<{ dialog: PortDialog; fellBack: boolean }>),
      recordModelSuccess: (_userId, id) =>
        wrap("count model success", () => convo.dialogs.recordSuccess(id) as Promise<PortDialog>),
      setPendingPhoto: (_userId, id, fileId) =>
        wrap("set pending photo", () => convo.dialogs.setPendingPhoto(id, { fileId }) as Promise<PortDialog>),
      resolvePendingPhoto: (_userId, id, choice) =>
        wrap("resolve pending photo", () => convo.dialogs.resolvePendingPhoto(id, { choice }) as Promise<PortDialog>),
      expireIdle: () => wrap("expire dialogs", async () => (await convo.dialogs.expire()).expired),
    },
  };
  return port;
}

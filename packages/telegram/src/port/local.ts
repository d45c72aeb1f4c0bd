/**
 * The port on Convo in-process (`@convo/core`): every call is a library call in this
 * process, in its own unit of work. Only types are imported from the library, so a bot
 * that talks to Convo over HTTP does not load it.
 */
import type { Convo } from "@convo/core";
import { TelegramConvoError } from "../errors.js";
import type { ConvoPort, PortRunEvent } from "./types.js";

/** Wraps a library failure so both adapters fail alike (`convoCode` = Convo's code). */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof TelegramConvoError) throw error;
    const convoCode = error !== null && typeof error === "object" && "code" in error ? String(error.code) : undefined;
    const status = error !== null && typeof error === "object" && "status" in error ? Number(error.status) : undefined;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TelegramConvoError("CONVO_REQUEST_FAILED", `${what}: ${reason}`, { cause: error, convoCode, status });
  }
}

/**
 * A port calling Convo in this process.
 *
 * @example
 * import { openConvo } from "@convo/core";
 * import { convoMiddleware, localPort } from "@convo/telegram";
 *
 * const convo = await openConvo({ dataDir: "./.convo-data" });
 * bot.use(convoMiddleware({ port: localPort(convo) }));
 */
export function localPort(convo: Convo): ConvoPort {
  return {
    ensureUser: (input) => call("create user", () => convo.users.create(input)),
    updateUser: (userId, patch) => call("update user", () => convo.users.update(userId, patch)),
    appendToCurrent: (userId, { conversationKey, ...input }) =>
      call("append message", () => convo.messages.appendToCurrent(userId, { ...input, externalId: conversationKey })),
    append: (userId, conversationId, input) => call("append message", () => convo.messages.append(userId, conversationId, input)),
    openConversation: async (userId, key, env) =>
      (await call("open conversation", () => convo.conversations.openByKey(userId, key, { env }))).conversation,
    getState: (userId, conversationId) => call("read state", () => convo.state.get(userId, conversationId)),
    replaceState: (userId, conversationId, doc, version) =>
      call("write state", () => convo.state.replace(userId, conversationId, doc, version)),
    context: (userId, options) => call("load context", () => convo.context.load(userId, options)),
    startRun: async (userId, conversationId, input) => {
      const { run, created } = await call("start run", () => convo.runs.start(userId, conversationId, input));
      return { runId: run.id, created };
    },
    async *followRun(userId, runId, after = 0): AsyncGenerator<PortRunEvent> {
      const events = await call("follow run", () => convo.runs.follow(userId, runId, { after }));
      for await (const event of events) yield event as PortRunEvent;
    },
    dialogs: {
      create: (userId, input) => call("start dialog", () => convo.dialogs.create(userId, input)),
      active: (userId) => call("read dialog", () => convo.dialogs.getActive(userId)),
      update: (userId, id, update) => call("update dialog", () => convo.dialogs.update(userId, id, update)),
      close: (userId, id, status) => call("close dialog", () => convo.dialogs.close(userId, id, status)),
      closeActive: (userId, status) => call("close dialog", () => convo.dialogs.closeActive(userId, status)),
      recordModelError: (userId, id) => call("count model error", () => convo.dialogs.recordModelError(userId, id)),
      recordModelSuccess: (userId, id) => call("count model success", () => convo.dialogs.recordModelSuccess(userId, id)),
      setPendingPhoto: (userId, id, fileId) => call("park photo", () => convo.dialogs.setPendingPhoto(userId, id, fileId)),
      resolvePendingPhoto: (userId, id, choice) =>
        call("resolve photo", () => convo.dialogs.resolvePendingPhoto(userId, id, choice)),
      expireIdle: () => call("expire dialogs", () => convo.sweeps.expireDialogs()),
    },
  };
}

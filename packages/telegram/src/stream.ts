/**
 * Streams a run's answer into a Telegram chat: the first text is sent as a message,
 * later text edits it — at most once per `editIntervalMs` (Telegram allows about one
 * edit per second per chat before answering 429), always once more at the end — and
 * text past Telegram's 4,096-character limit continues in a new message.
 */
import type { Api } from "grammy";
import { GrammyError } from "grammy";
import type { PortRunEvent } from "./port/types.js";

export interface StreamOptions {
  /** Least time between two edits of one message, in ms (default 1000). */
  editIntervalMs?: number;
  /** Characters per Telegram message (default 4096, Telegram's limit). */
  maxLength?: number;
  /** Where "now" comes from, in ms (default `Date.now`). */
  now?: () => number;
  /** Shown when the run fails (default "⚠️ …" with the run's error). */
  errorText?: (message: string) => string;
}

/** What a streamed run showed. */
export interface StreamResult {
  /** The whole answer (the run's final text, or what had streamed before an error). */
  text: string;
  /** The run's last event type: `done`, `error` or `cancelled`. */
  outcome: string;
  /** Telegram message ids the answer fills, in order. */
  messageIds: number[];
}

/** Cuts at most `max` UTF-16 units off the front without splitting a surrogate pair. */
function cut(text: string, max: number): number {
  if (text.length <= max) return text.length;
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

const notModified = (error: unknown) =>
  error instanceof GrammyError && error.error_code === 400 && /message is not modified/i.test(error.description);

/**
 * Shows the events of a run in `chatId` as they arrive and answers the final text.
 *
 * @example
 * const { runId } = await port.startRun(user.id, conversationId, { messageId });
 * await streamToChat(ctx.api, ctx.chat.id, port.followRun(user.id, runId));
 */
export async function streamToChat(
  api: Api,
  chatId: number | string,
  events: AsyncIterable<PortRunEvent>,
  options: StreamOptions = {},
): Promise<StreamResult> {
  const interval = options.editIntervalMs ?? 1000;
  const max = options.maxLength ?? 4096;
  const now = options.now ?? Date.now;
  const errorText = options.errorText ?? ((message: string) => `⚠️ ${message}`);
  const messageIds: number[] = [];
  let sentBefore = ""; // text of the earlier, full messages
  let text = ""; // text of the current message
  let shown = ""; // what the current message shows
  let current: number | undefined;
  let lastEdit = Number.NEGATIVE_INFINITY;
  let outcome = "done";

  const show = async (value: string) => {
    if (current === undefined) {
      const sent = await api.sendMessage(chatId, value);
      current = sent.message_id;
      messageIds.push(current);
    } else {
      try {
        await api.editMessageText(chatId, current, value);
      } catch (error) {
        if (!notModified(error)) throw error;
      }
    }
    shown = value;
    lastEdit = now();
  };

  const flush = async (final: boolean) => {
    while (text.length > max) {
      const at = cut(text, max);
      const head = text.slice(0, at);
      if (head !== shown) await show(head);
      sentBefore += head;
      text = text.slice(at);
      current = undefined;
      shown = "";
    }
    if (text === "" || text === shown) return;
    if (!final && now() - lastEdit < interval) return;
    await show(text);
  };

  for await (const event of events) {
    if (event.type === "delta" && event.content) {
      text += event.content;
      await flush(false);
    } else if (event.type === "done") {
      // The final text is authoritative (a provider may revise what streamed).
      const final = event.content ?? sentBefore + text;
      text = final.startsWith(sentBefore) ? final.slice(sentBefore.length) : text;
      await flush(true);
      outcome = "done";
      break;
    } else if (event.type === "error" || event.type === "cancelled") {
      outcome = event.type;
      text = text === "" ? errorText(event.content ?? event.type) : `${text}\n\n${errorText(event.content ?? event.type)}`;
      await flush(true);
      break;
    }
  }
  return { text: sentBefore + text, outcome, messageIds };
}

/**
 * What a Telegram update becomes in Convo: one message of the user's current
 * conversation. Pure functions of the update, so the mapping is tested without a bot.
 *
 * | Update | Message |
 * | --- | --- |
 * | text | `user`, the text |
 * | photo, sticker, document (also video, voice, audio, animation) | `user`, caption or a `[photo]`-style marker; `parts: [{ type, fileId, … }]` |
 * | edited message | `user`, the new text; `parts: [{ type: "edit", messageId }]` — messages are append-only, the original stays |
 * | button press (callback query) | `user`, the button's data; `parts: [{ type: "callback", data }]`; noise |
 * | service message (members joined, pinned, title…), chat member updates, anything else | `system`, `[service: <kind>]`; noise |
 *
 * Every message carries `clientMessageId = tg-update:<update_id>`: a redelivered update
 * stores nothing twice.
 */
import type { Message, Update } from "grammy/types";
import type { RecordInput } from "./port/types.js";

/**
 * The client id of the message an update is recorded as.
 *
 * @example
 * updateMessageId(ctx.update.update_id); // "tg-update:10045"
 */
export const updateMessageId = (updateId: number) => `tg-update:${updateId}`;

/**
 * The file parts of a message (photo: the largest size), with their Telegram `file_id`.
 *
 * @example
 * const [photo] = fileParts(ctx.message); // { type: "photo", fileId: "AgAC…", width: 1280, height: 960, … }
 */
export function fileParts(message: Message): Array<Record<string, unknown>> {
  const parts: Array<Record<string, unknown>> = [];
  if (message.photo && message.photo.length > 0) {
    const largest = message.photo.reduce((a, b) => ((b.width ?? 0) * (b.height ?? 0) > (a.width ?? 0) * (a.height ?? 0) ? b : a));
    parts.push({
      type: "photo",
      fileId: largest.file_id,
      fileUniqueId: largest.file_unique_id,
      width: largest.width,
      height: largest.height,
    });
  }
  if (message.sticker) {
    parts.push({
      type: "sticker",
      fileId: message.sticker.file_id,
      fileUniqueId: message.sticker.file_unique_id,
      emoji: message.sticker.emoji ?? null,
      setName: message.sticker.set_name ?? null,
    });
  }
  const files = {
    document: message.document,
    video: message.video,
    voice: message.voice,
    audio: message.audio,
    animation: message.animation,
  };
  for (const [type, file] of Object.entries(files)) {
    if (!file) continue;
    parts.push({
      type,
      fileId: file.file_id,
      fileUniqueId: file.file_unique_id,
      fileName: "file_name" in file ? (file.file_name ?? null) : null,
      mimeType: "mime_type" in file ? (file.mime_type ?? null) : null,
    });
  }
  return parts;
}

/** Fields of a message that make it a service message rather than something the user said. */
const SERVICE_FIELDS = [
  "new_chat_members",
  "left_chat_member",
  "new_chat_title",
  "new_chat_photo",
  "delete_chat_photo",
  "group_chat_created",
  "supergroup_chat_created",
  "channel_chat_created",
  "message_auto_delete_timer_changed",
  "migrate_to_chat_id",
  "migrate_from_chat_id",
  "pinned_message",
  "successful_payment",
  "write_access_allowed",
  "forum_topic_created",
  "video_chat_started",
  "video_chat_ended",
] as const;

function serviceKind(message: Message): string | undefined {
  return SERVICE_FIELDS.find((field) => (message as unknown as Record<string, unknown>)[field] !== undefined);
}

function fromMessage(message: Message): Omit<RecordInput, "clientMessageId"> {
  const kind = serviceKind(message);
  if (kind) return { role: "system", content: `[service: ${kind}]`, noise: true, parts: [{ type: "service", kind }] };
  const parts = fileParts(message);
  const text = message.text ?? message.caption;
  if (parts.length > 0) {
    const first = parts[0] as { type: string; emoji?: string | null };
    const marker = first.type === "sticker" && first.emoji ? first.emoji : `[${first.type}]`;
    return { role: "user", content: text ?? marker, parts };
  }
  if (text !== undefined && text !== "") return { role: "user", content: text };
  // Locations, contacts, polls, dice…: kept, but not language for the model.
  const other = Object.keys(message).find((key) => !["message_id", "from", "chat", "date", "sender_chat"].includes(key));
  return { role: "user", content: `[${other ?? "message"}]`, noise: true };
}

/**
 * The message an update is stored as (see the table above); an update kind it does
 * not know is stored as a noise `system` line.
 *
 * @example
 * await port.appendToCurrent(userId, recordOf(ctx.update));
 */
export function recordOf(update: Update): RecordInput {
  const clientMessageId = updateMessageId(update.update_id);
  if (update.message) return { ...fromMessage(update.message), clientMessageId };
  if (update.edited_message) {
    const edited = update.edited_message;
    const base = fromMessage(edited);
    const edit = { type: "edit", messageId: edited.message_id, editDate: edited.edit_date ?? null };
    return { ...base, parts: [edit, ...(base.parts ?? [])], clientMessageId };
  }
  if (update.callback_query) {
    const data = update.callback_query.data ?? update.callback_query.game_short_name ?? "";
    return {
      role: "user",
      content: data === "" ? "[callback]" : data,
      parts: [{ type: "callback", data, messageId: update.callback_query.message?.message_id ?? null }],
      noise: true,
      clientMessageId,
    };
  }
  const kind = Object.keys(update).find((key) => key !== "update_id") ?? "update";
  return { role: "system", content: `[service: ${kind}]`, parts: [{ type: "service", kind }], noise: true, clientMessageId };
}

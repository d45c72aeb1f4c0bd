/**
 * @convo/telegram — grammY on Convo.
 *
 * Commonly used: `convoMiddleware` (user mapping, update recording, `ctx.convo`),
 * `localPort` / `httpPort` (Convo in-process or over HTTP), `convoStorage` (grammY
 * sessions in Convo). The reference sticker-assistant bot is `@convo/telegram/bot`.
 */

// Building blocks
export { convoCodeOf, TelegramConvoError, type TelegramConvoErrorCode } from "./errors.js";
// Commonly used
export {
  type ConvoDialogHandle,
  type ConvoFlavor,
  type ConvoHandle,
  type ConvoMiddlewareOptions,
  type ConvoStateHandle,
  convoMiddleware,
  profileOf,
} from "./middleware.js";
export { type HttpPortOptions, httpPort } from "./port/http.js";
export { localPort } from "./port/local.js";
export type {
  ConvoPort,
  PortContext,
  PortConversation,
  PortDialog,
  PortDialogCloseStatus,
  PortDialogMessage,
  PortDialogUpdate,
  PortExpiredDialog,
  PortMessage,
  PortRunEvent,
  PortState,
  PortUser,
  RecordInput,
} from "./port/types.js";
export { type ConvoStorageOptions, convoStorage, defaultSessionOwner } from "./storage.js";
export { type StreamOptions, type StreamResult, streamToChat } from "./stream.js";
export { fileParts, recordOf, updateMessageId } from "./update.js";

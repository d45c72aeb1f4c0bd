/**
 * The sticker generator the bot hands the confirmed slots and the photo to. Pluggable:
 * pass your own to `createStickerBot({ generator })`. The default stub answers a
 * placeholder sticker, so the whole flow runs without an image model.
 */
import { type Api, InputFile } from "grammy";
import type { PortDialog } from "../port/types.js";

export interface StickerRequest {
  /** The confirmed dialog: goal, style, emotion, pose, stickerText, photoFileId. */
  dialog: PortDialog;
  /** The Telegram file id of the user's photo. */
  photoFileId: string;
  /** The bot's API (download the photo with `getFile`). */
  api: Api;
}

/** What the bot sends: a sticker file (bytes) or an existing Telegram file id. */
export interface StickerResult {
  sticker: InputFile | string;
}

export interface StickerGenerator {
  generate(request: StickerRequest): Promise<StickerResult>;
}

/** A 1×1 transparent WebP: the smallest sticker Telegram accepts as a file. */
const PLACEHOLDER_WEBP = Buffer.from("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==", "base64");

/**
 * The stub: checks the photo is reachable (`getFile`, as a real generator would
 * before downloading it) and answers the placeholder sticker.
 *
 * @example
 * createStickerBot({ token, port, generator: stubGenerator() });
 */
export function stubGenerator(): StickerGenerator {
  return {
    async generate({ photoFileId, api }) {
      await api.getFile(photoFileId);
      return { sticker: new InputFile(PLACEHOLDER_WEBP, "sticker.webp") };
    },
  };
}

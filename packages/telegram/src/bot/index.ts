/**
 * @convo/telegram/bot — the reference sticker assistant (seed 000) on Convo.
 */
export { type StickerGenerator, type StickerRequest, type StickerResult, stubGenerator } from "./generator.js";
export { slotModelFromEnv } from "./model.js";
export { extractSlots, offlineSlotModel, type Slots, SlotsSchema } from "./slots.js";
export {
  applySlots,
  createStickerBot,
  nextStep,
  type StickerBot,
  type StickerBotContext,
  type StickerBotOptions,
} from "./sticker-bot.js";
export { russianTexts, type Texts } from "./texts.js";

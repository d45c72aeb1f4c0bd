/**
 * Every text the reference bot shows, in one place: translate by passing your own
 * `Texts` to `createStickerBot({ texts })`. Russian, as in the product's documents.
 */
import type { PortDialog } from "../port/types.js";

export interface Texts {
  /** Reply-keyboard buttons of the main menu. */
  menuAssistant: string;
  menuStyles: string;
  welcome: string;
  /** After /start while a dialog is active (the user continues where they were). */
  resume: string;
  askGoal: string;
  askPhoto: string;
  askStyle: string;
  askEmotion: string;
  askPose: string;
  askText: string;
  noTextButton: string;
  summary(dialog: PortDialog): string;
  confirmButton: string;
  restartButton: string;
  /** A new photo arrived while the dialog has one. */
  photoSwap: string;
  newPhotoButton: string;
  keepPhotoButton: string;
  photoTaken: string;
  photoKept: string;
  /** Text sent while the bot waits for a photo. */
  photoExpected: string;
  /** A model error that is not yet the third in a row. */
  modelError: string;
  /** The third model error in a row: manual mode. */
  fallback: string;
  /** 30 minutes without activity. */
  expired: string;
  /** "🎨 Стили": the manual menu; any assistant dialog was abandoned. */
  manualMenu: string;
  generating: string;
  done: string;
  generationFailed: string;
  /** A button of a dialog that has ended. */
  staleButton: string;
  /** A photo outside the assistant. */
  photoOutsideDialog: string;
}

const none = "—";

export const russianTexts: Texts = {
  menuAssistant: "🤖 Ассистент",
  menuStyles: "🎨 Стили",
  welcome:
    "Привет! Я делаю стикеры из ваших фото 🎨\n\n" +
    "🤖 Ассистент — расскажите, какой стикер нужен, и я помогу собрать параметры.\n" +
    "🎨 Стили — выбрать всё вручную.",
  resume: "Продолжим с того места, где остановились 👇",
  askGoal: "Расскажите, для чего нужен стикер? Например: «поздравить сестру с днём рождения».",
  askPhoto: "Отлично! Теперь пришлите фото, из которого сделать стикер 📷",
  askStyle: "Какой стиль? Например: аниме, мультяшный, реалистичный, пиксель-арт.",
  askEmotion: "Какую эмоцию показать? Например: радость, удивление, грусть.",
  askPose: "Какая поза или жест? Например: машет рукой, показывает большой палец.",
  askText: "Какой текст написать на стикере? Если текст не нужен — нажмите «Без текста».",
  noTextButton: "Без текста",
  summary: (d) =>
    [
      "Проверьте параметры стикера:",
      `🎯 Цель: ${d.goal ?? none}`,
      `🎨 Стиль: ${d.style ?? none}`,
      `😊 Эмоция: ${d.emotion ?? none}`,
      `🙋 Поза: ${d.pose ?? none}`,
      `💬 Текст: ${d.stickerText ?? "без текста"}`,
    ].join("\n"),
  confirmButton: "✅ Подтвердить",
  restartButton: "🔄 Заново",
  photoSwap: "У меня уже есть фото для этого стикера. Использовать новое?",
  newPhotoButton: "🆕 Новое фото",
  keepPhotoButton: "📷 Оставить фото",
  photoTaken: "Беру новое фото ✅",
  photoKept: "Оставляю прежнее фото ✅",
  photoExpected: "Жду фото 📷 — пришлите картинку, из которой сделать стикер.",
  modelError: "Не получилось разобрать ответ 😔 Попробуйте сформулировать иначе.",
  fallback: "Ассистент сейчас недоступен 😔 Перехожу в ручной режим: выберите стиль в меню «🎨 Стили».",
  expired: "⏰ Диалог с ассистентом завершён: 30 минут без активности. Нажмите «🤖 Ассистент», чтобы начать заново.",
  manualMenu: "Ручной режим 🎨 Доступные стили: аниме, мультяшный, реалистичный, пиксель-арт. Пришлите фото и выберите стиль.",
  generating: "Создаю стикер… ⏳",
  done: "Готово! Ваш стикер 👆",
  generationFailed: "Не удалось создать стикер 😔 Попробуйте ещё раз позже.",
  staleButton: "Этот диалог уже завершён",
  photoOutsideDialog: "Фото получено 📷 Нажмите «🤖 Ассистент», и я помогу сделать из него стикер.",
};

import { z } from "zod";
import { IsoTime, QueryInt, Uuid } from "./common.js";

const Status = z.enum(["active", "completed", "abandoned", "error"]);
const DialogMessage = z.strictObject({ role: z.enum(["user", "assistant", "system"]), content: z.string() });

export const Dialog = z
  .object({
    id: Uuid,
    userId: Uuid,
    sessionId: Uuid.nullable().describe("The conversation; null when none or deleted"),
    goal: z.string().nullable(),
    style: z.string().nullable(),
    emotion: z.string().nullable(),
    pose: z.string().nullable(),
    stickerText: z.string().nullable().describe("null = no text on the sticker"),
    confirmed: z.boolean(),
    currentStep: z.number().int().min(0).max(7),
    messages: z.array(z.object({ role: z.string(), content: z.string() })),
    errorCount: z.number().int(),
    pendingPhotoFileId: z.string().nullable(),
    photoFileId: z.string().nullable(),
    status: Status,
    env: z.string(),
    importKey: z.string().nullable(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    completedAt: IsoTime.nullable(),
  })
  .describe("AssistantSession");

export const CreateDialogBody = z
  .strictObject({
    env: z.string().max(32).optional(),
    sessionId: z.uuid().nullable().optional().describe("Link to one of the user's conversations"),
  })
  .nullish();

const Slot = z.string().nullable().optional();
export const UpdateDialogBody = z.strictObject({
  goal: Slot,
  style: Slot,
  emotion: Slot,
  pose: Slot,
  stickerText: Slot,
  confirmed: z.boolean().optional(),
  currentStep: z.number().int().optional(),
  pendingPhotoFileId: Slot,
  photoFileId: Slot,
  appendMessages: z.array(DialogMessage).optional().describe("Chat lines appended after the stored ones"),
});

export const CloseDialogBody = z.strictObject({ status: z.enum(["completed", "abandoned", "error"]) });
export const ModelErrorResponse = z.object({
  dialog: Dialog,
  fellBack: z.boolean().describe("Third error in a row: closed as error"),
});
export const PendingPhotoBody = z.strictObject({ fileId: z.string().describe("Telegram file_id of the new photo") });
export const ResolvePhotoBody = z.strictObject({ choice: z.enum(["keep", "take"]) });

export const AnalyticsQuery = z.strictObject({
  env: z.string().max(32).optional(),
  from: z.string().max(40).optional().describe("ISO 8601: dialogs created at or after"),
  to: z.string().max(40).optional().describe("ISO 8601: dialogs created before"),
  limit: QueryInt(1, 100).optional(),
});

export const ExpiredDialogsResponse = z.object({
  expired: z.array(
    z.object({
      dialogId: Uuid,
      userId: Uuid,
      env: z.string(),
      externalId: z.string().nullable().describe("The owner's platform id, e.g. tg:480637186"),
    }),
  ),
});

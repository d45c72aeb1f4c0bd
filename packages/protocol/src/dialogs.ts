import { z } from "zod";
import { Env, IsoTime, QueryInt, Uuid } from "./common.js";
import { DIALOG_ROLES, DIALOG_STATUSES, LIMITS } from "./limits.js";

const Status = z.enum(DIALOG_STATUSES);
const DialogMessage = z.strictObject({ role: z.enum(DIALOG_ROLES), content: z.string() });

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
    currentStep: z.number().int().min(0).max(LIMITS.dialogMaxStep),
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
    env: Env.optional(),
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
  env: Env.optional(),
  from: z.string().max(40).optional().describe("ISO 8601: dialogs created at or after"),
  to: z.string().max(40).optional().describe("ISO 8601: dialogs created before"),
  limit: QueryInt(1, 100).optional(),
});

const Count = z.number().int().min(0);

/** `GET /v1/analytics/assistant/goals`: the most frequent goals. */
export const GoalsReport = z.object({ goals: z.array(z.object({ goal: z.string(), count: Count })) }).describe("GoalsReport");
/** `…/styles`: styles among confirmed dialogs. */
export const StylesReport = z
  .object({ styles: z.array(z.object({ style: z.string().nullable(), count: Count })) })
  .describe("StylesReport");
/** `…/funnel`: dialogs reaching each step. */
export const FunnelReport = z
  .object({
    funnel: z.object({
      started: Count,
      setGoal: Count,
      choseStyle: Count,
      choseEmotion: Count,
      chosePose: Count,
      confirmed: Count,
      completed: Count,
    }),
  })
  .describe("FunnelReport");
/** `…/statuses`: dialogs per status. */
export const StatusesReport = z
  .object({ statuses: z.object({ active: Count, completed: Count, abandoned: Count, error: Count }) })
  .describe("StatusesReport");
/** `…/steps`: mean step of confirmed dialogs. */
export const StepsReport = z
  .object({ steps: z.object({ averageStep: z.number().nullable(), confirmed: Count }) })
  .describe("StepsReport");
/** `…/combos`: the most frequent style + emotion pairs. */
export const CombosReport = z
  .object({ combos: z.array(z.object({ style: z.string().nullable(), emotion: z.string().nullable(), count: Count })) })
  .describe("CombosReport");

/** The analytics reports by name, for routes and clients. */
export const ANALYTICS_REPORTS = {
  goals: GoalsReport,
  styles: StylesReport,
  funnel: FunnelReport,
  statuses: StatusesReport,
  steps: StepsReport,
  combos: CombosReport,
} as const;
/** The name of an analytics report. */
export type AnalyticsReportName = keyof typeof ANALYTICS_REPORTS;

// The types of the schemas above, for handlers and clients.
export type Dialog = z.infer<typeof Dialog>;
export type CreateDialogBody = z.infer<typeof CreateDialogBody>;
export type UpdateDialogBody = z.infer<typeof UpdateDialogBody>;
export type CloseDialogBody = z.infer<typeof CloseDialogBody>;
export type ModelErrorResponse = z.infer<typeof ModelErrorResponse>;
export type PendingPhotoBody = z.infer<typeof PendingPhotoBody>;
export type ResolvePhotoBody = z.infer<typeof ResolvePhotoBody>;
export type AnalyticsQuery = z.infer<typeof AnalyticsQuery>;
export type GoalsReport = z.infer<typeof GoalsReport>;
export type StylesReport = z.infer<typeof StylesReport>;
export type FunnelReport = z.infer<typeof FunnelReport>;
export type StatusesReport = z.infer<typeof StatusesReport>;
export type StepsReport = z.infer<typeof StepsReport>;
export type CombosReport = z.infer<typeof CombosReport>;

export const ExpiredDialogsResponse = z
  .object({
    expired: z.array(
      z.object({
        dialogId: Uuid,
        userId: Uuid,
        env: z.string(),
        externalId: z.string().nullable().describe("The owner's platform id, e.g. tg:480637186"),
      }),
    ),
  })
  .describe("ExpiredDialogs");
export type ExpiredDialogsResponse = z.infer<typeof ExpiredDialogsResponse>;

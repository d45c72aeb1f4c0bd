/**
 * The toolkit's one error class. It carries a stable `code` and, when it wraps a
 * failure of Convo (in-process or over HTTP), that failure as `cause`.
 */

/** Codes of {@link TelegramConvoError}. */
export type TelegramConvoErrorCode =
  /** Convo answered an error (HTTP status ≥ 400, or a library error). `status` and `convoCode` say which. */
  | "CONVO_REQUEST_FAILED"
  /** Convo could not be reached over HTTP. */
  | "CONVO_UNREACHABLE"
  /** `ctx.convo` was used on an update without a sender (a channel post). */
  | "NO_USER"
  /** The bot was configured wrongly (a missing token, an unknown option). */
  | "BAD_CONFIG";

/**
 * A failure of the Telegram toolkit.
 *
 * @example
 * try {
 *   await ctx.convo.dialog.update({ style: "anime" });
 * } catch (error) {
 *   if (error instanceof TelegramConvoError && error.convoCode === "DIALOG_CLOSED") await ctx.reply("Диалог уже завершён");
 *   else throw error;
 * }
 */
export class TelegramConvoError extends Error {
  readonly code: TelegramConvoErrorCode;
  /** The HTTP status Convo answered (over HTTP), or the library error's status. */
  readonly status: number | undefined;
  /** Convo's own error code (`DIALOG_CLOSED`, `NOT_FOUND`, …) when Convo answered one. */
  readonly convoCode: string | undefined;

  constructor(
    code: TelegramConvoErrorCode,
    message: string,
    options: { cause?: unknown; status?: number; convoCode?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "TelegramConvoError";
    this.code = code;
    this.status = options.status;
    this.convoCode = options.convoCode;
  }
}

/**
 * Convo's error code of a failure, from either adapter (`DIALOG_CLOSED`, `NOT_FOUND`…).
 *
 * @example
 * bot.catch((err) => {
 *   if (convoCodeOf(err.error) === "DIALOG_CLOSED") return; // the sweep closed it meanwhile
 *   console.error(err.error);
 * });
 */
export function convoCodeOf(error: unknown): string | undefined {
  if (error instanceof TelegramConvoError) return error.convoCode;
  if (error !== null && typeof error === "object" && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

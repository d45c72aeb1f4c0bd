/**
 * SQL for assistant dialogs (`assistant_sessions`). Every change is a conditional
 * UPDATE `… WHERE status = 'active'`: a writer racing the sweep, a close or another
 * writer can never bring a closed dialog back, and "no row" tells the caller that
 * nothing changed.
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";
import { assistantSessions, users } from "../db/schema.js";
import type {
  AssistantSessionRow,
  DialogChanges,
  DialogCloseStatus,
  DialogMessage,
  ExpiredDialogRow,
  ImportedDialog,
} from "./types.js";

const a = assistantSessions;

export class AssistantSessionsRepository {
  constructor(private readonly db: Db) {}

  #active(userId: string, id: string): SQL {
    return and(eq(a.userId, userId), eq(a.id, id), eq(a.status, "active")) as SQL;
  }

  /**
   * The owner of a dialog, looked up by id alone. Only for admin requests that name
   * no user; everything else filters on `user_id` first.
   */
  async ownerOf(id: string): Promise<string | undefined> {
    const rows = await this.db.select({ userId: a.userId }).from(a).where(eq(a.id, id)).limit(1);
    return rows[0]?.userId;
  }

  async find(userId: string, id: string): Promise<AssistantSessionRow | undefined> {
    const rows = await this.db
      .select()
      .from(a)
      .where(and(eq(a.userId, userId), eq(a.id, id)))
      .limit(1);
    return rows[0];
  }

  /** The user's active dialog (at most one: a partial unique index guarantees it). */
  async findActive(userId: string): Promise<AssistantSessionRow | undefined> {
    const rows = await this.db
      .select()
      .from(a)
      .where(and(eq(a.userId, userId), eq(a.status, "active")))
      .limit(1);
    return rows[0];
  }

  async insert(values: { userId: string; sessionId: string | null; env: string; now: Date }): Promise<AssistantSessionRow> {
    const [row] = await this.db
      .insert(a)
      .values({
        userId: values.userId,
        sessionId: values.sessionId,
        env: values.env,
        createdAt: values.now,
        updatedAt: values.now,
      })
      .returning();
    return row as AssistantSessionRow;
  }

  /**
   * Sets slots, step and flags and appends `append` to the chat with jsonb `||`, so
   * the stored messages are never rewritten (a concurrent append is not lost).
   * Answers undefined when the dialog is missing or not active (nothing changed).
   */
  async update(
    userId: string,
    id: string,
    changes: DialogChanges,
    append: DialogMessage[],
    now: Date,
  ): Promise<AssistantSessionRow | undefined> {
    const set: Partial<Record<keyof AssistantSessionRow, unknown>> = { ...changes, updatedAt: now };
    if (append.length > 0) set.messages = sql`${a.messages} || ${JSON.stringify(append)}::jsonb`;
    const rows = await this.db
      .update(a)
      .set(set as Partial<AssistantSessionRow>)
      .where(this.#active(userId, id))
      .returning();
    return rows[0];
  }

  /** Closes an active dialog; `completed` also sets `confirmed` and `completed_at`. */
  async close(userId: string, id: string, status: DialogCloseStatus, now: Date): Promise<AssistantSessionRow | undefined> {
    const rows = await this.db.update(a).set(closing(status, now)).where(this.#active(userId, id)).returning();
    return rows[0];
  }

  /** Closes the user's active dialog, if any (the restart flow, leaving for the manual menu). */
  async closeActive(userId: string, status: DialogCloseStatus, now: Date): Promise<AssistantSessionRow | undefined> {
    const rows = await this.db
      .update(a)
      .set(closing(status, now))
      .where(and(eq(a.userId, userId), eq(a.status, "active")))
      .returning();
    return rows[0];
  }

  /**
   * Counts a model error in one statement; the `maxErrors`-th in a row closes the
   * dialog as `error`. SET expressions all read the row as it was before the update.
   */
  async recordError(userId: string, id: string, maxErrors: number, now: Date): Promise<AssistantSessionRow | undefined> {
    const rows = await this.db
      .update(a)
      .set({
        errorCount: sql`${a.errorCount} + 1`,
        status: sql`CASE WHEN ${a.errorCount} + 1 >= ${maxErrors}::int THEN 'error' ELSE ${a.status} END`,
        updatedAt: now,
      })
      .where(this.#active(userId, id))
      .returning();
    return rows[0];
  }

  /** A successful model reply: the error streak starts again from zero. */
  async resetErrors(userId: string, id: string, now: Date): Promise<AssistantSessionRow | undefined> {
    const rows = await this.db.update(a).set({ errorCount: 0, updatedAt: now }).where(this.#active(userId, id)).returning();
    return rows[0];
  }

  /**
   * Ends the photo swap: `keep` drops the pending photo, `take` makes it the dialog's
   * photo. Answers undefined unless the dialog is active and has a pending photo.
   */
  async resolvePendingPhoto(
    userId: string,
    id: string,
    choice: "keep" | "take",
    now: Date,
  ): Promise<AssistantSessionRow | undefined> {
    const set =
      choice === "take"
        ? { photoFileId: sql`${a.pendingPhotoFileId}`, pendingPhotoFileId: null, updatedAt: now }
        : { pendingPhotoFileId: null, updatedAt: now };
    const rows = await this.db
      .update(a)
      .set(set)
      .where(and(this.#active(userId, id), sql`${a.pendingPhotoFileId} IS NOT NULL`))
      .returning();
    return rows[0];
  }

  /**
   * Abandons up to `batch` active dialogs without activity since `idleBefore`
   * (maintenance across all users). Picked in a MATERIALIZED CTE so the LIMIT holds,
   * with SKIP LOCKED so the sweep never waits on a dialog being written; the UPDATE
   * checks the condition again on the locked row.
   */
  async abandonIdleBatch(idleBefore: Date, now: Date, batch: number): Promise<ExpiredDialogRow[]> {
    // The owner's external id comes along so a bot can tell the user (`tg:<id>`) without
    // another round trip per dialog.
    return queryRows<ExpiredDialogRow>(
      this.db,
      sql`
      WITH picked AS MATERIALIZED (
        SELECT user_id, id FROM ${a}
        WHERE status = 'active' AND updated_at <= ${idleBefore.toISOString()}::timestamptz
        ORDER BY updated_at LIMIT ${batch}
        FOR UPDATE SKIP LOCKED
      ), done AS (
        UPDATE ${a} AS t SET status = 'abandoned', updated_at = ${now.toISOString()}::timestamptz
        FROM picked
        WHERE t.user_id = picked.user_id AND t.id = picked.id
          AND t.status = 'active' AND t.updated_at <= ${idleBefore.toISOString()}::timestamptz
        RETURNING t.id, t.user_id, t.env
      )
      SELECT done.id AS "dialogId", done.user_id AS "userId", done.env, u.external_id AS "externalId"
      FROM done JOIN ${users} u ON u.id = done.user_id`,
    );
  }

  /**
   * Inserts imported dialogs; one already imported (same user and `import_key`) is
   * left alone. Answers the import keys actually inserted.
   */
  async insertImported(dialogs: ImportedDialog[]): Promise<string[]> {
    if (dialogs.length === 0) return [];
    const rows = await this.db
      .insert(a)
      .values(dialogs)
      .onConflictDoNothing({ target: [a.userId, a.importKey], where: sql`${a.importKey} IS NOT NULL` })
      .returning({ importKey: a.importKey });
    return rows.map((r) => r.importKey as string);
  }

  /** Which of these (user, import key) pairs are stored already (dry runs). */
  async existingImportKeys(pairs: { userId: string; importKey: string }[]): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    // sql.param: a bare array in a drizzle template would expand to a list of parameters.
    const rows = await queryRows<{ import_key: string }>(
      this.db,
      sql`
      SELECT t.import_key FROM ${a} AS t
      JOIN unnest(${sql.param(pairs.map((p) => p.userId))}::uuid[], ${sql.param(pairs.map((p) => p.importKey))}::text[])
        AS k(user_id, import_key)
        ON t.user_id = k.user_id AND t.import_key = k.import_key`,
    );
    return new Set(rows.map((r) => r.import_key));
  }
}

function closing(status: DialogCloseStatus, now: Date) {
  return status === "completed" ? { status, confirmed: true, completedAt: now, updatedAt: now } : { status, updatedAt: now };
}

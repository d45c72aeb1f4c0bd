/** SQL for users. */
import { desc, eq, sql } from "drizzle-orm";
import { type Db, queryText } from "../db/engine.js";
import { users } from "../db/schema.js";
import type { UserRow } from "./types.js";

export class UsersRepository {
  constructor(private readonly db: Db) {}

  /** Inserts a user; with an `externalId` already taken, answers the existing row instead. */
  async insertOrGet(values: {
    externalId?: string | null;
    displayName?: string | null;
    profile?: Record<string, unknown>;
    now: Date;
  }): Promise<{ row: UserRow; created: boolean }> {
    const inserted = await this.db
      .insert(users)
      .values({
        externalId: values.externalId ?? null,
        displayName: values.displayName ?? null,
        profile: values.profile ?? {},
        createdAt: values.now,
        updatedAt: values.now,
      })
      .onConflictDoNothing({ target: users.externalId })
      .returning();
    if (inserted[0]) return { row: inserted[0], created: true };
    const existing = await this.findByExternalId(values.externalId as string);
    if (!existing) throw new Error("user vanished between insert and read");
    return { row: existing, created: false };
  }

  async find(id: string): Promise<UserRow | undefined> {
    const rows = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return rows[0];
  }

  /**
   * A page of all users, newest first, keyset-paged by (created_at, id). Admin only
   * (the web app's user picker); it reads across every user, so it is no hot path.
   */
  async page(limit: number, after?: { createdAt: string; id: string }): Promise<UserRow[]> {
    return this.db
      .select()
      .from(users)
      .where(after ? sql`(${users.createdAt}, ${users.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)` : undefined)
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(limit + 1);
  }

  async findByExternalId(externalId: string): Promise<UserRow | undefined> {
    const rows = await this.db.select().from(users).where(eq(users.externalId, externalId)).limit(1);
    return rows[0];
  }

  /**
   * Locks the user's row for the rest of the transaction; answers false when there is
   * no such user. Serialises "append to current" per user so two first messages
   * cannot open two conversations.
   */
  async lock(id: string): Promise<boolean> {
    // Plain text on the driver (prepared, see queryText): the first statement of every
    // run start and appendToCurrent.
    const rows = await queryText(this.db, "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", [id]);
    return rows.length > 0;
  }

  async update(
    id: string,
    patch: { displayName?: string | null; profile?: Record<string, unknown>; externalId?: string | null },
    now: Date,
  ): Promise<UserRow | undefined> {
    const rows = await this.db
      .update(users)
      .set({ ...patch, updatedAt: now })
      .where(eq(users.id, id))
      .returning();
    return rows[0];
  }
}

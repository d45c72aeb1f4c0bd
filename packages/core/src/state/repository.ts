/** SQL for conversation state documents (optimistic concurrency on `version`). */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/engine.js";
import { conversationStates } from "../db/schema.js";
import type { StateRow } from "./types.js";

export class StatesRepository {
  constructor(private readonly db: Db) {}

  /** The stored document, or undefined when the conversation never had one. */
  async find(userId: string, conversationId: string): Promise<StateRow | undefined> {
    const rows = await this.db
      .select({ doc: conversationStates.doc, version: conversationStates.version, updatedAt: conversationStates.updatedAt })
      .from(conversationStates)
      .where(and(eq(conversationStates.userId, userId), eq(conversationStates.conversationId, conversationId)))
      .limit(1);
    return rows[0];
  }

  /**
   * Writes `doc` as version `expectedVersion + 1` when the stored version is
   * `expectedVersion` (0 = no document yet). Answers the new row, or undefined when
   * the version was stale — in which case nothing was written.
   */
  async write(
    userId: string,
    conversationId: string,
    doc: Record<string, unknown>,
    expectedVersion: number,
    now: Date,
  ): Promise<StateRow | undefined> {
    if (expectedVersion === 0) {
      const rows = await this.db
        .insert(conversationStates)
        .values({ userId, conversationId, doc, version: 1, updatedAt: now })
        .onConflictDoNothing()
        .returning({ doc: conversationStates.doc, version: conversationStates.version, updatedAt: conversationStates.updatedAt });
      return rows[0];
    }
    const rows = await this.db
      .update(conversationStates)
      .set({ doc, version: sql`${conversationStates.version} + 1`, updatedAt: now })
      .where(
        and(
          eq(conversationStates.userId, userId),
          eq(conversationStates.conversationId, conversationId),
          eq(conversationStates.version, expectedVersion),
        ),
      )
      .returning({ doc: conversationStates.doc, version: conversationStates.version, updatedAt: conversationStates.updatedAt });
    return rows[0];
  }
}

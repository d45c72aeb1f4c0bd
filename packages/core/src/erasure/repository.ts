/** The erasure SQL: one DELETE per table, each filtered on the user's id. */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";
import type { ErasedTable } from "./types.js";

/** Tables whose keys begin with the conversation, not the user. */
const BY_CONVERSATION: ReadonlySet<ErasedTable> = new Set(["messages", "message_search"]);

export class ErasureRepository {
  constructor(private readonly db: Db) {}

  /** Locks the user's row (a concurrent write for the user waits); false when there is no such user. */
  async lockUser(userId: string): Promise<boolean> {
    const rows = await queryRows(this.db, sql`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR UPDATE`);
    return rows.length > 0;
  }

  /** Deletes the user's rows of one table; answers how many. */
  async deleteFrom(table: ErasedTable, userId: string): Promise<number> {
    const key = table === "users" ? "id" : "user_id";
    // The table name comes from the fixed list ERASED_TABLES, never from input.
    const target = sql.identifier(table);
    const where = BY_CONVERSATION.has(table)
      ? // Keyed by conversation, with no index on user_id (migration 0007): reached
        // through the user's conversations. Every such row belongs to one (both are
        // written from the conversation's row and deleted with it by a trigger).
        sql`USING conversations c WHERE c.user_id = ${userId}::uuid AND t.conversation_id = c.id AND t.user_id = ${userId}::uuid`
      : sql`WHERE t.${sql.identifier(key)} = ${userId}::uuid`;
    const rows = await queryRows<{ n: number }>(
      this.db,
      sql`WITH gone AS (DELETE FROM ${target} AS t ${where} RETURNING 1)
          SELECT count(*)::int AS n FROM gone`,
    );
    return Number(rows[0]?.n ?? 0);
  }
}

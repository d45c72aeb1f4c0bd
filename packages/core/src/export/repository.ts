/** Keyset reads of one table's rows for a user, in batches. */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";

export class ExportRepository {
  constructor(private readonly db: Db) {}

  /**
   * Up to `limit` of the user's rows of `table`, ordered by `key`, after the key values
   * `after`. Table and column names come from the fixed EXPORT_SECTIONS list.
   */
  async batch(
    table: string,
    key: readonly string[],
    userId: string,
    limit: number,
    after?: unknown[],
  ): Promise<Record<string, unknown>[]> {
    if (table === "messages") return this.#messages(userId, limit, after);
    const owner = table === "users" ? "id" : "user_id";
    const columns = sql.join(
      key.map((k) => sql.identifier(k)),
      sql`, `,
    );
    const position = after
      ? sql`AND (${columns}) > (${sql.join(
          after.map((v) => sql`${v}`),
          sql`, `,
        )})`
      : sql``;
    return queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT * FROM ${sql.identifier(table)}
          WHERE ${sql.identifier(owner)} = ${userId}::uuid ${position}
          ORDER BY ${columns} LIMIT ${limit}`,
    );
  }

  /**
   * The user's messages by (conversation_id, seq). Their keys do not begin with
   * `user_id` (migration 0007), so the batch walks the user's conversations by key and
   * reads each one's messages by (conversation_id, seq), stopping at `limit` rows.
   */
  async #messages(userId: string, limit: number, after?: unknown[]): Promise<Record<string, unknown>[]> {
    const [conversation, seq] = after ?? [];
    // After (conversation, seq): the rest of that conversation, then the next ones whole.
    const inner = after ? sql`AND (c.id > ${conversation}::uuid OR m.seq > ${seq}::int)` : sql``;
    const outer = after ? sql`AND c.id >= ${conversation}::uuid` : sql``;
    return queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT m.* FROM conversations c
          CROSS JOIN LATERAL (
            SELECT * FROM messages m
            WHERE m.conversation_id = c.id AND m.user_id = ${userId}::uuid ${inner}
            ORDER BY m.seq LIMIT ${limit}
          ) m
          WHERE c.user_id = ${userId}::uuid ${outer}
          ORDER BY c.id, m.seq LIMIT ${limit}`,
    );
  }
}

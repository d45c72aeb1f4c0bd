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
}

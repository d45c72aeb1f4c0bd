/** SQL for searching a user's own earlier messages (the `search_history` tool). */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";
import { conversations, messages } from "../db/schema.js";
import type { HistoryHit } from "./types.js";

/** Escapes LIKE's wildcards so the text is matched literally. */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

export class HistoryRepository {
  constructor(private readonly db: Db) {}

  /**
   * The user's messages containing `text` (case-insensitive, literal), newest first,
   * outside the conversation `excludeConversationId`. Noise is left out. Every
   * condition includes the user's id: nobody else's messages can match.
   */
  async search(userId: string, text: string, limit: number, excludeConversationId?: string): Promise<HistoryHit[]> {
    const pattern = `%${escapeLike(text)}%`;
    const exclude = excludeConversationId ? sql`AND id <> ${excludeConversationId}::uuid` : sql``;
    const rows = await queryRows<{
      conversation_id: string;
      title: string | null;
      seq: number;
      role: string;
      content: string;
      created_at: Date | string;
    }>(
      this.db,
      sql`
      SELECT m.conversation_id, c.title, m.seq, m.role, m.content, m.created_at
      FROM ${messages} m
      JOIN ${conversations} c ON c.user_id = m.user_id AND c.id = m.conversation_id
      -- The message keys begin with the conversation (migration 0007): the user's rows are
      -- read by the array of their conversations (see search/repository.ts).
      WHERE m.conversation_id = ANY (ARRAY(SELECT id FROM ${conversations} WHERE user_id = ${userId}::uuid ${exclude}))
        AND m.user_id = ${userId}::uuid AND m.noise = false AND m.content ILIKE ${pattern}
      ORDER BY m.created_at DESC, m.seq DESC
      LIMIT ${limit}`,
    );
    return rows.map((row) => ({
      conversationId: row.conversation_id,
      conversationTitle: row.title,
      seq: Number(row.seq),
      role: row.role,
      content: row.content,
      createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    }));
  }
}

/** The summaries SQL: what is due, the turns to read, and the optimistic writes. */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";

export interface DueConversation {
  userId: string;
  id: string;
  title: string | null;
  summary: string | null;
  summarySeq: number;
  lastSeq: number;
}

/** Turns fed to a summarizer at most at once; older ones of a very long conversation are skipped. */
export const MAX_SUMMARY_INPUT_MESSAGES = 200;

const due = (r: Record<string, unknown>): DueConversation => ({
  userId: r.user_id as string,
  id: r.id as string,
  title: (r.title as string | null) ?? null,
  summary: (r.summary as string | null) ?? null,
  summarySeq: Number(r.summary_seq),
  lastSeq: Number(r.last_seq),
});

export class SummariesRepository {
  constructor(private readonly db: Db) {}

  async find(userId: string, id: string): Promise<DueConversation | undefined> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT user_id, id, title, summary, summary_seq, last_seq FROM conversations
          WHERE user_id = ${userId}::uuid AND id = ${id}::uuid`,
    );
    return rows[0] ? due(rows[0]) : undefined;
  }

  /**
   * Conversations whose close left a summary due, oldest first; one that failed waits
   * `retryBaseMs × 2^(attempts-1)` (at most a day) before it is tried again.
   */
  async pending(now: Date, retryBaseMs: number, limit: number): Promise<DueConversation[]> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT user_id, id, title, summary, summary_seq, last_seq FROM conversations
          WHERE summary_pending_at IS NOT NULL
            AND (summary_attempts = 0 OR summary_attempted_at
                 + least(${retryBaseMs}::float8 * power(2, summary_attempts - 1), 86400000) * interval '1 millisecond'
                 <= ${now.toISOString()}::timestamptz)
          ORDER BY summary_pending_at LIMIT ${limit}`,
    );
    return rows.map(due);
  }

  /** Closed conversations whose summary does not cover all their turns (the backfill), by key. */
  async stale(limit: number, after?: { userId: string; id: string }): Promise<DueConversation[]> {
    const position = after ? sql`AND (user_id, id) > (${after.userId}::uuid, ${after.id}::uuid)` : sql``;
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT user_id, id, title, summary, summary_seq, last_seq FROM conversations
          WHERE closed_at IS NOT NULL AND summary_seq < last_seq ${position}
          ORDER BY user_id, id LIMIT ${limit}`,
    );
    return rows.map(due);
  }

  /**
   * The conversation's turns with `afterSeq < seq <= toSeq`, noise and rolling
   * summaries left out, oldest first: the newest `limit` of them, and the first user
   * message too when `withFirst` (the goal of a summary written from scratch).
   */
  async turns(
    userId: string,
    id: string,
    afterSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<{ seq: number; role: string; content: string }[]> {
    const rows = await queryRows<{ seq: number; role: string; content: string }>(
      this.db,
      sql`(SELECT seq, role, content FROM messages
           WHERE user_id = ${userId}::uuid AND conversation_id = ${id}::uuid AND noise = false
             AND seq > ${afterSeq} AND seq <= ${toSeq} AND role = 'user'
           ORDER BY seq LIMIT 1)
          UNION
          (SELECT seq, role, content FROM messages
           WHERE user_id = ${userId}::uuid AND conversation_id = ${id}::uuid AND noise = false
             AND seq > ${afterSeq} AND seq <= ${toSeq}
           ORDER BY seq DESC LIMIT ${limit})
          ORDER BY seq`,
    );
    return rows.map((r) => ({ seq: Number(r.seq), role: r.role, content: r.content }));
  }

  /**
   * Stores the summary covering turns up to `toSeq`, unless another writer got there
   * first (the summary no longer starts at `fromSeq`): answers whether it was written.
   * Clears the pending mark and the warning.
   */
  async write(userId: string, id: string, summary: string, fromSeq: number, toSeq: number): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      sql`UPDATE conversations SET summary = ${summary}, summary_seq = ${toSeq},
            summary_pending_at = CASE WHEN last_seq <= ${toSeq} THEN NULL ELSE summary_pending_at END,
            summary_attempts = 0, summary_warning = NULL
          WHERE user_id = ${userId}::uuid AND id = ${id}::uuid AND summary_seq = ${fromSeq}
          RETURNING id`,
    );
    return rows.length > 0;
  }

  /** Nothing to summarise (no turns): the close needs no summary. */
  async clearPending(userId: string, id: string): Promise<void> {
    await this.db.execute(
      sql`UPDATE conversations SET summary_pending_at = NULL, summary_seq = last_seq
          WHERE user_id = ${userId}::uuid AND id = ${id}::uuid`,
    );
  }

  /** Records a failed attempt as the conversation's warning. */
  async fail(userId: string, id: string, warning: string, now: Date): Promise<void> {
    await this.db.execute(
      sql`UPDATE conversations SET summary_attempts = summary_attempts + 1, summary_warning = ${warning},
            summary_attempted_at = ${now.toISOString()}::timestamptz
          WHERE user_id = ${userId}::uuid AND id = ${id}::uuid`,
    );
  }

  /** The newest rolling summary of a conversation, if any. */
  async latestRolling(
    userId: string,
    id: string,
  ): Promise<{ messageId: string; seq: number; fromSeq: number; toSeq: number; content: string } | undefined> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`SELECT id, seq, summary_from_seq, summary_to_seq, content FROM messages
          WHERE user_id = ${userId}::uuid AND conversation_id = ${id}::uuid AND summary_to_seq IS NOT NULL
          ORDER BY summary_to_seq DESC LIMIT 1`,
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      messageId: r.id as string,
      seq: Number(r.seq),
      fromSeq: Number(r.summary_from_seq),
      toSeq: Number(r.summary_to_seq),
      content: r.content as string,
    };
  }

  /**
   * Appends a rolling summary as a message (role `system`, flagged noise so that
   * ordinary history skips it) covering `fromSeq..toSeq`. It takes the next `seq`
   * under the conversation's row lock like any message, but it is not user activity:
   * `updated_at` and `message_count` stay. Nothing is appended when a summary already
   * reaches `toSeq` (a concurrent roll won).
   */
  async appendRolling(
    userId: string,
    id: string,
    content: string,
    fromSeq: number,
    toSeq: number,
    now: Date,
  ): Promise<{ messageId: string; seq: number } | undefined> {
    const rows = await queryRows<{ id: string; seq: number }>(
      this.db,
      sql`WITH c AS (
            SELECT user_id, id, last_seq FROM conversations
            WHERE user_id = ${userId}::uuid AND id = ${id}::uuid FOR UPDATE
          ), ins AS (
            INSERT INTO messages (user_id, conversation_id, seq, role, content, noise, summary_from_seq, summary_to_seq, created_at)
            SELECT c.user_id, c.id, c.last_seq + 1, 'system', ${content}, true, ${fromSeq}, ${toSeq}, ${now.toISOString()}::timestamptz
            FROM c
            WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.user_id = c.user_id AND m.conversation_id = c.id
                              AND m.summary_to_seq >= ${toSeq})
            RETURNING id, seq
          ), bump AS (
            UPDATE conversations t SET last_seq = ins.seq FROM ins
            WHERE t.user_id = ${userId}::uuid AND t.id = ${id}::uuid
          )
          SELECT id, seq FROM ins`,
    );
    const r = rows[0];
    return r ? { messageId: r.id, seq: Number(r.seq) } : undefined;
  }
}

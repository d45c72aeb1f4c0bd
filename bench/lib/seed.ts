/**
 * Bulk seeding in plain SQL (`generate_series`, `unnest`): thousands of rows in one
 * statement, with every kept counter (`conversation_totals`, `message_count`,
 * `last_seq`) consistent with the rows, as the library would have left them.
 */
import type { RawDb } from "./engines.js";

/** Creates `count` users with external ids `<prefix><n>`; answers their ids in order. */
export async function seedUsers(raw: RawDb, prefix: string, count: number): Promise<string[]> {
  const rows = await raw.query<{ id: string }>(
    `INSERT INTO users (external_id)
     SELECT $1::text || g FROM generate_series(1, $2::int) AS g
     ORDER BY g
     RETURNING id`,
    [prefix, count],
  );
  return rows.map((r) => r.id);
}

export interface SeedConversationsOptions {
  /** Conversations per user. */
  perUser: number;
  /**
   * Age of the newest conversation's last activity, and the step between one
   * conversation and the next older one (seconds). Default 0 and 1: all active.
   */
  newestAgeSeconds?: number;
  stepSeconds?: number;
  /** Close conversations older than the newest one (as a real history would be). */
  closeOlder?: boolean;
}

/** A seeded conversation. */
export interface SeededConversation {
  userId: string;
  id: string;
}

/**
 * Creates `perUser` open, untitled, empty conversations for each user, newest first by
 * `updated_at`, and counts them in `conversation_totals`. Answers them grouped by
 * user in the order of `userIds`, newest first within a user. Times are whole
 * milliseconds, as the library writes them (JS Dates) and as its list cursors carry them.
 */
export async function seedConversations(
  raw: RawDb,
  userIds: string[],
  options: SeedConversationsOptions,
): Promise<SeededConversation[][]> {
  const { perUser, newestAgeSeconds = 0, stepSeconds = 1, closeOlder = false } = options;
  const rows = await raw.query<{ user_id: string; id: string; ord: number; g: number }>(
    `WITH src AS (
       SELECT u.user_id, u.ord, g,
              date_trunc('milliseconds', now()) - make_interval(secs => $3::double precision + (g - 1) * $4::double precision) AS at
       FROM unnest($1::uuid[]) WITH ORDINALITY AS u(user_id, ord)
       CROSS JOIN generate_series(1, $2::int) AS g
     ), ins AS (
       INSERT INTO conversations (user_id, env, created_at, updated_at, closed_at, close_reason)
       SELECT user_id, 'prod', at, at,
              CASE WHEN $5::boolean AND g > 1 THEN at END,
              CASE WHEN $5::boolean AND g > 1 THEN 'user' END
       FROM src
       RETURNING user_id, id, updated_at
     )
     SELECT ins.user_id, ins.id, src.ord::int AS ord, src.g
     FROM ins JOIN src ON src.user_id = ins.user_id AND src.at = ins.updated_at
     ORDER BY src.ord, src.g`,
    [userIds, perUser, newestAgeSeconds, stepSeconds, closeOlder],
  );
  await raw.query(
    `INSERT INTO conversation_totals (user_id, env, total)
     SELECT user_id, 'prod', $2::int FROM unnest($1::uuid[]) AS user_id
     ON CONFLICT (user_id, env) DO UPDATE SET total = conversation_totals.total + EXCLUDED.total`,
    [userIds, perUser],
  );
  const byUser = userIds.map(() => [] as SeededConversation[]);
  for (const row of rows) byUser[Number(row.ord) - 1].push({ userId: row.user_id, id: row.id });
  return byUser;
}

/**
 * Adds `perConversation` messages to each conversation (alternating user and
 * assistant, one second apart) and sets `last_seq`, `message_count` and the
 * activity time to match.
 */
export async function seedMessages(raw: RawDb, conversations: SeededConversation[], perConversation: number): Promise<void> {
  const userIds = conversations.map((c) => c.userId);
  const ids = conversations.map((c) => c.id);
  await raw.query(
    `INSERT INTO messages (user_id, id, conversation_id, seq, role, content, created_at)
     SELECT c.user_id, gen_random_uuid(), c.id, s,
            CASE WHEN s % 2 = 1 THEN 'user' ELSE 'assistant' END,
            'Seeded message ' || s || ': ' || repeat('how do I make a sticker from this photo? ', 2),
            c.created_at + make_interval(secs => s)
     FROM conversations c
     JOIN unnest($1::uuid[], $2::uuid[]) AS t(user_id, id) ON c.user_id = t.user_id AND c.id = t.id
     CROSS JOIN generate_series(1, $3::int) AS s`,
    [userIds, ids, perConversation],
  );
  await raw.query(
    `UPDATE conversations c
     SET last_seq = c.last_seq + $3::int, message_count = c.message_count + $3::int,
         updated_at = GREATEST(c.updated_at, c.created_at + make_interval(secs => $3::int))
     FROM unnest($1::uuid[], $2::uuid[]) AS t(user_id, id)
     WHERE c.user_id = t.user_id AND c.id = t.id`,
    [userIds, ids, perConversation],
  );
}

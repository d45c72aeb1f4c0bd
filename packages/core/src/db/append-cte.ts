/**
 * The append of a message without a `clientMessageId` as the CTEs `c` (the
 * conversation's counters, bumped under its row lock) and `ins` (the message), shared
 * by every statement that appends that way: the plain append (MessagesRepository), the
 * run start, which appends, stores the run and its first event in one statement
 * (RunsRepository.startWithMessage), and a run's end with its answer
 * (RunsRepository.finishWithAnswer). One text, so they cannot drift.
 *
 * Parameters: $1 user, $2 conversation, $3 role, $4 content, $5 parts (jsonb), $6 noise,
 * $7 run id, $8 now, $9 heuristic title, $10 message id (null: a random one).
 * `gate` adds a CTE before `c` and a condition `c` must meet (`c` is then empty and
 * nothing is written when the gate refuses).
 *
 * @example
 * const text = `${appendCte()} SELECT ins.id, ins.seq FROM ins`;
 * const gated = `${appendCte({ cte: "g AS (SELECT run_start_gate($1, $2) AS gate)", condition: "(SELECT gate FROM g) >= 0" })} SELECT …`;
 */
export function appendCte(gate?: { cte: string; condition: string }): string {
  return `
WITH ${gate ? `${gate.cte}, ` : ""}c AS (
  UPDATE conversations SET
    last_seq = last_seq + 1,
    message_count = message_count + 1,
    updated_at = GREATEST(updated_at, $8::timestamptz),
    title = COALESCE(title, $9::text),
    title_source = CASE WHEN title IS NULL AND $9::text IS NOT NULL THEN 'heuristic' ELSE title_source END
  WHERE user_id = $1 AND id = $2 AND closed_at IS NULL${gate ? ` AND ${gate.condition}` : ""}
  RETURNING *
), ins AS (
  INSERT INTO messages (user_id, id, conversation_id, seq, role, content, parts, noise, client_message_id, run_id, created_at)
  SELECT c.user_id, COALESCE($10::uuid, gen_random_uuid()), c.id, c.last_seq, $3, $4, $5::jsonb, $6, NULL, $7::uuid, $8::timestamptz
  FROM c
  RETURNING id, seq
)`;
}

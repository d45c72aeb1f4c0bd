-- Issue 10: every append rewrites the conversation's row (counters, activity time), and
-- each index whose predicate the row matches gets a new entry per message. These two are
-- dropped; rows are kept as they are.
-- * conversations_user_env_activity_idx (user_id, env, updated_at DESC, id DESC): the list
--   and the current-conversation lookup use conversations_user_activity_idx with env as a
--   filter (a user's conversations are nearly all in one env).
-- * conversations_open_idx (updated_at) WHERE closed_at IS NULL: only the idle sweep used
--   it; the sweep now reads the table once per interval instead (docs/performance.md).
DROP INDEX IF EXISTS "conversations_user_env_activity_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "conversations_open_idx";

-- Issue 10: the append path made lean; rows are kept as they are.
-- Every append rewrites the conversation's row (counters, activity time), and each index
-- whose predicate the row matches gets a new entry per message. Two of them go:
-- * conversations_user_env_activity_idx (user_id, env, updated_at DESC, id DESC): the list
--   and the current-conversation lookup use conversations_user_activity_idx with env as a
--   filter (a user's conversations are nearly all in one env).
-- * conversations_open_idx (updated_at) WHERE closed_at IS NULL: only the idle sweep used
--   it; the sweep now reads the table once per interval instead (docs/performance.md).
DROP INDEX IF EXISTS "conversations_user_env_activity_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "conversations_open_idx";--> statement-breakpoint
-- The foreign key messages → conversations checked every inserted message with a lookup.
-- The only statement that inserts messages takes the conversation from the UPDATE that
-- locks its row, so the check never found anything; its cascade is kept by a trigger,
-- which fires on every delete of a conversation (direct, retention sweep, or cascaded
-- from the user). The schema comes from the trigger, so one database can hold several
-- Convo schemas.
ALTER TABLE "messages" DROP CONSTRAINT IF EXISTS "messages_conversation_fk";--> statement-breakpoint
CREATE FUNCTION "convo_delete_conversation_messages"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DELETE FROM %I.messages WHERE user_id = $1 AND conversation_id = $2', TG_TABLE_SCHEMA)
    USING OLD.user_id, OLD.id;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "conversations_delete_messages" AFTER DELETE ON "conversations"
  FOR EACH ROW EXECUTE FUNCTION "convo_delete_conversation_messages"();

-- A dialog outlives its conversation: deleting the conversation clears the link and
-- keeps the dialog (and its analytics). The column list form of SET NULL (PostgreSQL
-- 15+) leaves user_id, the other half of the composite key, untouched.
ALTER TABLE "assistant_sessions" ADD CONSTRAINT "assistant_sessions_session_fk" FOREIGN KEY ("user_id", "session_id") REFERENCES "conversations"("user_id", "id") ON DELETE SET NULL ("session_id");

-- Issue 10: a run start (user message, run, first event) in one autocommit statement
-- instead of BEGIN, two statements and COMMIT (RunsRepository.startWithMessage).
-- A start must see every earlier start of its user committed to count them against
-- the per-user limit; a statement's own snapshot is taken before it waits for the
-- user's row lock and would miss the start it waited for. The statements of a
-- VOLATILE function take fresh snapshots, so this gate locks the user's row and then
-- counts with a snapshot taken after the lock was granted.
-- Answers -2 when the user does not exist, -1 when the conversation has a running run,
-- else the number of the user's running runs. The row lock is held to the end of the
-- calling statement's transaction, which serialises the user's starts as users.lock does.
CREATE OR REPLACE FUNCTION "run_start_gate"("p_user" uuid, "p_conversation" uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
DECLARE
  running integer;
BEGIN
  PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN -2;
  END IF;
  IF EXISTS (SELECT 1 FROM runs WHERE user_id = p_user AND conversation_id = p_conversation AND status = 'running') THEN
    RETURN -1;
  END IF;
  SELECT count(*) INTO running FROM runs WHERE user_id = p_user AND status = 'running';
  RETURN running;
END
$$;

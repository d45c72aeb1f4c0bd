-- Dialog analytics filter by env and created_at and read only these columns: with
-- them in the index every report is an index-only scan instead of reading each row
-- with its chat (docs/analytics-plans.md: 1.4–3.5× faster at 1,000,000 dialogs).
CREATE INDEX IF NOT EXISTS "assistant_sessions_analytics_idx" ON "assistant_sessions" ("env", "created_at") INCLUDE ("goal", "style", "emotion", "pose", "confirmed", "status", "current_step");

CREATE INDEX "assistant_sessions_id_idx" ON "assistant_sessions" USING btree ("id");--> statement-breakpoint
CREATE INDEX "conversations_id_idx" ON "conversations" USING btree ("id");--> statement-breakpoint
CREATE INDEX "runs_id_idx" ON "runs" USING btree ("id");
-- Issue 10: full-text search off the append path, and messages keyed without user_id;
-- rows are kept. Every append wrote two GIN entries: messages_search_idx for the new
-- message, and conversations_search_idx for the conversation's new row version (the
-- append's UPDATE is never HOT, so to_tsvector of title + summary ran per message).
-- Messages are now indexed by the search indexer (the sweep) once their conversation
-- is closed, into message_search; search matches what it has not indexed yet on the
-- fly (docs/memory.md, docs/performance.md).
--
-- 1. The message keys without user_id: each entry of the two indexes every append
--    writes was 16 bytes wider for a column the conversation already determines.
--    user_id stays, and every query keeps filtering on it.
ALTER TABLE "messages" DROP CONSTRAINT "messages_user_id_id_pk";--> statement-breakpoint
ALTER TABLE "messages" ADD PRIMARY KEY ("id");--> statement-breakpoint
DROP INDEX "messages_conversation_seq_key";--> statement-breakpoint
CREATE UNIQUE INDEX "messages_conversation_seq_key" ON "messages" USING btree ("conversation_id","seq");--> statement-breakpoint
-- 2. No full-text index on messages, and none on open conversations' rows.
DROP INDEX "messages_search_idx";--> statement-breakpoint
DROP INDEX "conversations_search_idx";--> statement-breakpoint
-- 3. The search index and its watermark: messages with seq <= search_seq are in
--    message_search (noise left out, as search leaves it out).
ALTER TABLE "conversations" ADD COLUMN "search_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE TABLE "message_search" (
	"user_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"message_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"document" tsvector NOT NULL,
	CONSTRAINT "message_search_conversation_id_seq_pk" PRIMARY KEY("conversation_id","seq")
);--> statement-breakpoint
-- Backfill: the closed conversations are indexed here, so search is as fast right after
-- the migration as before it; open ones are left to on-the-fly matching (and to the
-- indexer once they close). The GIN index is built after the rows are in (one build
-- instead of an insert per row).
INSERT INTO "message_search" ("user_id", "conversation_id", "seq", "message_id", "created_at", "document")
SELECT m."user_id", m."conversation_id", m."seq", m."id", m."created_at", to_tsvector('russian'::regconfig, m."content")
FROM "conversations" c
JOIN "messages" m ON m."conversation_id" = c."id" AND m."user_id" = c."user_id" AND m."seq" <= c."last_seq"
WHERE c."closed_at" IS NOT NULL AND m."noise" = false;--> statement-breakpoint
UPDATE "conversations" SET "search_seq" = "last_seq" WHERE "closed_at" IS NOT NULL AND "last_seq" > 0;--> statement-breakpoint
CREATE INDEX "message_search_document_idx" ON "message_search" USING gin ("document");--> statement-breakpoint
-- The indexer's queue: closed conversations with messages not in message_search yet.
-- Appends only rewrite open conversations, which never match the predicate.
CREATE INDEX "conversations_search_pending_idx" ON "conversations" USING btree ("closed_at") WHERE "conversations"."closed_at" IS NOT NULL AND "conversations"."last_seq" > "conversations"."search_seq";--> statement-breakpoint
-- Titles and summaries of closed conversations only; open ones are matched on the fly.
CREATE INDEX "conversations_search_idx" ON "conversations" USING gin (to_tsvector('russian'::regconfig, coalesce("title", '') || ' ' || coalesce("summary", ''))) WHERE "conversations"."closed_at" IS NOT NULL;--> statement-breakpoint
-- 4. A deleted conversation (directly, by the retention sweep, or cascaded from its
--    user) takes its search rows with its messages, through the same trigger (0004).
CREATE OR REPLACE FUNCTION "convo_delete_conversation_messages"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DELETE FROM %I.messages WHERE user_id = $1 AND conversation_id = $2', TG_TABLE_SCHEMA)
    USING OLD.user_id, OLD.id;
  EXECUTE format('DELETE FROM %I.message_search WHERE user_id = $1 AND conversation_id = $2', TG_TABLE_SCHEMA)
    USING OLD.user_id, OLD.id;
  RETURN NULL;
END
$$;

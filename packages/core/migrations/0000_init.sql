CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "assistant_sessions" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"session_id" uuid,
	"goal" text,
	"style" text,
	"emotion" text,
	"pose" text,
	"sticker_text" text,
	"confirmed" boolean DEFAULT false NOT NULL,
	"current_step" integer DEFAULT 0 NOT NULL,
	"messages" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error_count" integer DEFAULT 0 NOT NULL,
	"pending_photo_file_id" text,
	"photo_file_id" text,
	"status" text DEFAULT 'active' NOT NULL,
	"env" text DEFAULT 'prod' NOT NULL,
	"import_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "assistant_sessions_user_id_id_pk" PRIMARY KEY("user_id","id"),
	CONSTRAINT "valid_status" CHECK ("assistant_sessions"."status" IN ('active', 'completed', 'abandoned', 'error')),
	CONSTRAINT "valid_step" CHECK ("assistant_sessions"."current_step" BETWEEN 0 AND 7)
);
--> statement-breakpoint
CREATE TABLE "conversation_states" (
	"user_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"doc" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "conversation_states_user_id_conversation_id_pk" PRIMARY KEY("user_id","conversation_id")
);
--> statement-breakpoint
CREATE TABLE "conversation_totals" (
	"user_id" uuid NOT NULL,
	"env" text NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "conversation_totals_user_id_env_pk" PRIMARY KEY("user_id","env")
);
--> statement-breakpoint
CREATE TABLE "conversations" (
	"user_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"external_id" text,
	"title" text,
	"title_source" text,
	"env" text DEFAULT 'prod' NOT NULL,
	"summary" text,
	"message_count" integer DEFAULT 0 NOT NULL,
	"last_seq" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"close_reason" text,
	CONSTRAINT "conversations_user_id_id_pk" PRIMARY KEY("user_id","id"),
	CONSTRAINT "conversations_title_length" CHECK (char_length("conversations"."title") <= 30),
	CONSTRAINT "conversations_close_reason" CHECK ("conversations"."close_reason" IN ('user', 'inactivity', 'app')),
	CONSTRAINT "conversations_title_source" CHECK ("conversations"."title_source" IN ('heuristic', 'model', 'date', 'user'))
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"user_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"role" text NOT NULL,
	"content" text NOT NULL,
	"parts" jsonb,
	"noise" boolean DEFAULT false NOT NULL,
	"client_message_id" text,
	"run_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "messages_user_id_id_pk" PRIMARY KEY("user_id","id"),
	CONSTRAINT "messages_role" CHECK ("messages"."role" IN ('user', 'assistant', 'system', 'tool'))
);
--> statement-breakpoint
CREATE TABLE "run_events" (
	"user_id" uuid NOT NULL,
	"run_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"content" text,
	"data" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "run_events_user_id_run_id_seq_pk" PRIMARY KEY("user_id","run_id","seq"),
	CONSTRAINT "run_events_type" CHECK ("run_events"."type" IN ('thinking', 'tool_call', 'delta', 'done', 'error', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"user_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"conversation_id" uuid NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"user_message_id" uuid,
	"assistant_message_id" uuid,
	"model" text,
	"final_response" text,
	"input_tokens" integer,
	"output_tokens" integer,
	"total_tokens" integer,
	"processing_time_ms" integer,
	"error" text,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_event_seq" integer DEFAULT 0 NOT NULL,
	"node_id" text,
	"lease_expires_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "runs_user_id_id_pk" PRIMARY KEY("user_id","id"),
	CONSTRAINT "runs_status" CHECK ("runs"."status" IN ('running', 'done', 'error', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"external_id" text,
	"display_name" text,
	"profile" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assistant_sessions" ADD CONSTRAINT "assistant_sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_states" ADD CONSTRAINT "conversation_states_conversation_fk" FOREIGN KEY ("user_id","conversation_id") REFERENCES "conversations"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_totals" ADD CONSTRAINT "conversation_totals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_fk" FOREIGN KEY ("user_id","conversation_id") REFERENCES "conversations"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_events" ADD CONSTRAINT "run_events_run_fk" FOREIGN KEY ("user_id","run_id") REFERENCES "runs"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_conversation_fk" FOREIGN KEY ("user_id","conversation_id") REFERENCES "conversations"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "idx_assistant_sessions_user" ON "assistant_sessions" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "assistant_sessions_one_active_key" ON "assistant_sessions" USING btree ("user_id") WHERE "assistant_sessions"."status" = 'active';--> statement-breakpoint
CREATE INDEX "idx_assistant_sessions_status" ON "assistant_sessions" USING btree ("updated_at") WHERE "assistant_sessions"."status" = 'active';--> statement-breakpoint
CREATE INDEX "idx_assistant_sessions_env" ON "assistant_sessions" USING btree ("env");--> statement-breakpoint
CREATE INDEX "idx_assistant_sessions_created" ON "assistant_sessions" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "assistant_sessions_import_key" ON "assistant_sessions" USING btree ("user_id","import_key") WHERE "assistant_sessions"."import_key" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_external_id_key" ON "conversations" USING btree ("user_id","external_id") WHERE "conversations"."external_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "conversations_user_activity_idx" ON "conversations" USING btree ("user_id","updated_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "conversations_user_env_activity_idx" ON "conversations" USING btree ("user_id","env","updated_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "conversations_open_idx" ON "conversations" USING btree ("updated_at") WHERE "conversations"."closed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "conversations_closed_idx" ON "conversations" USING btree ("closed_at") WHERE "conversations"."closed_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "conversations_untitled_idx" ON "conversations" USING btree ("created_at") WHERE "conversations"."title" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "messages_conversation_seq_key" ON "messages" USING btree ("user_id","conversation_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_client_message_id_key" ON "messages" USING btree ("user_id","client_message_id") WHERE "messages"."client_message_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "runs_conversation_idx" ON "runs" USING btree ("user_id","conversation_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "runs_one_running_key" ON "runs" USING btree ("user_id","conversation_id") WHERE "runs"."status" = 'running';--> statement-breakpoint
CREATE INDEX "runs_lease_idx" ON "runs" USING btree ("lease_expires_at") WHERE "runs"."status" = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX "users_external_id_key" ON "users" USING btree ("external_id");
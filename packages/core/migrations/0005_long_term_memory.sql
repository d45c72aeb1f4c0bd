CREATE TABLE "webhook_attempts" (
	"user_id" uuid NOT NULL,
	"delivery_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	CONSTRAINT "webhook_attempts_user_id_delivery_id_attempt_pk" PRIMARY KEY("user_id","delivery_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"user_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"event_id" uuid NOT NULL,
	"subscription_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "webhook_deliveries_user_id_id_pk" PRIMARY KEY("user_id","id"),
	CONSTRAINT "webhook_deliveries_status" CHECK ("webhook_deliveries"."status" IN ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"user_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dispatched_at" timestamp with time zone,
	CONSTRAINT "webhook_events_user_id_id_pk" PRIMARY KEY("user_id","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"secret" text NOT NULL,
	"description" text,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_pending_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_warning" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_attempted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "summary_from_seq" integer;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "summary_to_seq" integer;--> statement-breakpoint
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_fk" FOREIGN KEY ("user_id","delivery_id") REFERENCES "webhook_deliveries"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_id_webhook_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_fk" FOREIGN KEY ("user_id","event_id") REFERENCES "webhook_events"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event_subscription_key" ON "webhook_deliveries" USING btree ("user_id","event_id","subscription_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "webhook_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_subscription_idx" ON "webhook_deliveries" USING btree ("subscription_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "webhook_events_undispatched_idx" ON "webhook_events" USING btree ("created_at") WHERE "webhook_events"."dispatched_at" IS NULL;--> statement-breakpoint
CREATE INDEX "conversations_summary_pending_idx" ON "conversations" USING btree ("summary_pending_at") WHERE "conversations"."summary_pending_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "conversations_search_idx" ON "conversations" USING gin (to_tsvector('russian'::regconfig, coalesce("title", '') || ' ' || coalesce("summary", '')));--> statement-breakpoint
CREATE INDEX "messages_search_idx" ON "messages" USING gin (to_tsvector('russian'::regconfig, "content"));--> statement-breakpoint
CREATE INDEX "messages_rolling_summary_idx" ON "messages" USING btree ("user_id","conversation_id","summary_to_seq" DESC NULLS LAST) WHERE "messages"."summary_to_seq" IS NOT NULL;--> statement-breakpoint
-- Summaries already stored cover the whole conversation as it stands.
UPDATE "conversations" SET "summary_seq" = "last_seq" WHERE "summary" IS NOT NULL;
--> statement-breakpoint
-- The webhook outbox is written by triggers, so every path that closes a conversation,
-- ends a run or ends a dialog (services, sweeps, lease expiry) records its event in the
-- same transaction as the change, and none can forget to. An event is stored only
-- while an active subscription wants its type. `SET search_path FROM CURRENT` binds
-- the functions to the schema they were migrated into.
CREATE FUNCTION convo_emit_webhook(p_user_id uuid, p_type text, p_data jsonb) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM webhook_subscriptions WHERE active AND p_type = ANY (events)) THEN
    INSERT INTO webhook_events (user_id, type, data) VALUES (p_user_id, p_type, p_data);
  END IF;
END;
$$;
--> statement-breakpoint
-- A conversation that closes is due a summary (written by the summaries service) and
-- reports `conversation.closed`.
CREATE FUNCTION convo_conversation_closed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL THEN
    NEW.summary_pending_at := NEW.closed_at;
    PERFORM convo_emit_webhook(NEW.user_id, 'conversation.closed', jsonb_build_object(
      'userId', NEW.user_id, 'conversationId', NEW.id, 'title', NEW.title, 'env', NEW.env,
      'closeReason', NEW.close_reason, 'messageCount', NEW.message_count,
      'createdAt', NEW.created_at, 'closedAt', NEW.closed_at));
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER conversations_closed BEFORE UPDATE OF closed_at ON conversations
FOR EACH ROW EXECUTE FUNCTION convo_conversation_closed();
--> statement-breakpoint
CREATE FUNCTION convo_run_finished() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF OLD.status = 'running' AND NEW.status <> 'running' THEN
    PERFORM convo_emit_webhook(NEW.user_id,
      CASE NEW.status WHEN 'done' THEN 'run.completed' WHEN 'cancelled' THEN 'run.cancelled' ELSE 'run.failed' END,
      jsonb_build_object(
        'userId', NEW.user_id, 'runId', NEW.id, 'conversationId', NEW.conversation_id, 'status', NEW.status,
        'model', NEW.model, 'finalResponse', NEW.final_response, 'error', NEW.error,
        'usage', jsonb_build_object('inputTokens', NEW.input_tokens, 'outputTokens', NEW.output_tokens,
                                    'totalTokens', NEW.total_tokens),
        'processingTimeMs', NEW.processing_time_ms, 'finishedAt', NEW.finished_at));
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER runs_finished AFTER UPDATE OF status ON runs
FOR EACH ROW EXECUTE FUNCTION convo_run_finished();
--> statement-breakpoint
CREATE FUNCTION convo_dialog_closed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF OLD.status = 'active' AND NEW.status <> 'active' THEN
    PERFORM convo_emit_webhook(NEW.user_id, 'dialog.closed', jsonb_build_object(
      'userId', NEW.user_id, 'dialogId', NEW.id, 'conversationId', NEW.session_id, 'status', NEW.status,
      'env', NEW.env, 'goal', NEW.goal, 'style', NEW.style, 'emotion', NEW.emotion, 'pose', NEW.pose,
      'confirmed', NEW.confirmed, 'currentStep', NEW.current_step, 'completedAt', NEW.completed_at));
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER assistant_sessions_closed AFTER UPDATE OF status ON assistant_sessions
FOR EACH ROW EXECUTE FUNCTION convo_dialog_closed();

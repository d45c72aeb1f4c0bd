/**
 * Convo's tables. Every table carries `user_id`, and every query filters on it, so
 * ownership checks are part of every lookup. Primary and unique keys begin with it,
 * except where noted: `users` (its key *is* the user id), the operator tables
 * (`api_keys`, webhook subscriptions, server secrets: not user data), and `messages`
 * and `message_search`, keyed by conversation (migration 0007: `user_id` first widened
 * every entry of the append path's indexes by 16 bytes; the conversation's own key
 * already says whose it is, and `user_id` stays as a filter on every read).
 *
 * Tables are declared without a schema qualifier: the store sets `search_path`, so one
 * database can hold several Convo schemas (tests give each test its own).
 */
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** PostgreSQL's `tsvector`, as text (Drizzle has no built-in type for it). */
const tsvector = customType<{ data: string }>({
  dataType: () => "tsvector",
});

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    externalId: text("external_id"),
    displayName: text("display_name"),
    profile: jsonb("profile").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  // The one global unique key: a bot looks its user up by the platform's id before it
  // knows Convo's. Under Citus `users` is a reference-sized table keyed by `id`.
  (t) => [uniqueIndex("users_external_id_key").on(t.externalId)],
);

/** How many conversations a user has per env, kept so list totals never count rows. */
export const conversationTotals = pgTable(
  "conversation_totals",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    env: text("env").notNull(),
    total: integer("total").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.userId, t.env] })],
);

export const conversations = pgTable(
  "conversations",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    id: uuid("id").notNull().defaultRandom(),
    externalId: text("external_id"),
    title: text("title"),
    /** `heuristic`, `model`, `date` or `user`; a `user` title is never overwritten. */
    titleSource: text("title_source"),
    env: text("env").notNull().default("prod"),
    summary: text("summary"),
    messageCount: integer("message_count").notNull().default(0),
    /** Highest `seq` handed out; the row lock on this counter makes `seq` gap-free. */
    lastSeq: integer("last_seq").notNull().default(0),
    createdAt: ts("created_at").notNull().defaultNow(),
    /** Last activity. */
    updatedAt: ts("updated_at").notNull().defaultNow(),
    closedAt: ts("closed_at"),
    closeReason: text("close_reason"),
    /** Highest `seq` the stored `summary` covers; a reopened conversation is summarised from here on. */
    summarySeq: integer("summary_seq").notNull().default(0),
    /** Set (by a trigger) when the conversation closes; cleared once its summary is written. */
    summaryPendingAt: ts("summary_pending_at"),
    /** Failed summary attempts since the last success; the sweep backs off by it. */
    summaryAttempts: integer("summary_attempts").notNull().default(0),
    /** The last summary failure, kept as a warning until a retry succeeds. */
    summaryWarning: text("summary_warning"),
    summaryAttemptedAt: ts("summary_attempted_at"),
    /**
     * Highest `seq` whose message is in `message_search` (the search indexer's
     * watermark): messages after it are matched on the fly (migration 0007).
     */
    searchSeq: integer("search_seq").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.id] }),
    index("conversations_summary_pending_idx").on(t.summaryPendingAt).where(sql`${t.summaryPendingAt} IS NOT NULL`),
    // Full-text search over titles and summaries of closed conversations only: an open
    // conversation's row is rewritten by every append, and an entry here per append
    // (with its to_tsvector) was most of what search cost the append path. Open
    // conversations are few per user and matched on the fly (search/repository.ts).
    index("conversations_search_idx")
      .using("gin", sql`to_tsvector('russian'::regconfig, coalesce(${t.title}, '') || ' ' || coalesce(${t.summary}, ''))`)
      .where(sql`${t.closedAt} IS NOT NULL`),
    // The search indexer's queue: closed conversations with messages not yet in
    // `message_search`. An append only ever rewrites open rows, which it never holds.
    index("conversations_search_pending_idx")
      .on(t.closedAt)
      .where(sql`${t.closedAt} IS NOT NULL AND ${t.lastSeq} > ${t.searchSeq}`),
    uniqueIndex("conversations_external_id_key").on(t.userId, t.externalId).where(sql`${t.externalId} IS NOT NULL`),
    // Every append rewrites this row (counters, activity time), and since `updated_at`
    // is indexed the update is never HOT: every index whose predicate the row matches
    // gets a new entry per message. So an open, titled conversation is in three indexes
    // only — the key, the owner lookup and the activity order (migration 0004 dropped
    // the env-activity and open-conversation indexes; docs/performance.md has the plans).
    // The partial indexes below hold closed or untitled rows, which appends rarely touch.
    // Admin keys address a conversation by id alone; this finds its owner.
    index("conversations_id_idx").on(t.id),
    // The list, the current-conversation lookup (with `env` as a filter: a user's
    // conversations are nearly all in one env) and the per-user close.
    index("conversations_user_activity_idx").on(t.userId, t.updatedAt.desc(), t.id.desc()),
    index("conversations_closed_idx").on(t.closedAt).where(sql`${t.closedAt} IS NOT NULL`),
    index("conversations_untitled_idx").on(t.createdAt).where(sql`${t.title} IS NULL`),
    check("conversations_title_length", sql`char_length(${t.title}) <= 30`),
    check("conversations_close_reason", sql`${t.closeReason} IN ('user', 'inactivity', 'app')`),
    check("conversations_title_source", sql`${t.titleSource} IN ('heuristic', 'model', 'date', 'user')`),
  ],
);

export const messages = pgTable(
  "messages",
  {
    userId: uuid("user_id").notNull(),
    // Keyed by `id` alone, and unique by (conversation_id, seq): see the header.
    id: uuid("id").primaryKey().defaultRandom(),
    conversationId: uuid("conversation_id").notNull(),
    seq: integer("seq").notNull(),
    role: text("role").notNull(),
    content: text("content").notNull(),
    parts: jsonb("parts").$type<unknown[]>(),
    noise: boolean("noise").notNull().default(false),
    clientMessageId: text("client_message_id"),
    runId: uuid("run_id"),
    createdAt: ts("created_at").notNull().defaultNow(),
    /**
     * Set on a rolling summary (a `system`, noise message): the seq range of the older
     * turns it stands in for in a budgeted context. The turns themselves stay.
     */
    summaryFromSeq: integer("summary_from_seq"),
    summaryToSeq: integer("summary_to_seq"),
  },
  (t) => [
    // No full-text index here (migration 0007): the search index is `message_search`,
    // written off the append path by the indexer.
    index("messages_rolling_summary_idx")
      .on(t.userId, t.conversationId, t.summaryToSeq.desc())
      .where(sql`${t.summaryToSeq} IS NOT NULL`),
    uniqueIndex("messages_conversation_seq_key").on(t.conversationId, t.seq),
    uniqueIndex("messages_client_message_id_key").on(t.userId, t.clientMessageId).where(sql`${t.clientMessageId} IS NOT NULL`),
    // No foreign key to conversations (migration 0004): its check ran a lookup per
    // inserted message, while the one statement that inserts messages takes the
    // conversation's row from the UPDATE that locks it, so a message cannot be written
    // for a missing conversation. The cascade is kept by the trigger
    // `conversations_delete_messages` (AFTER DELETE ON conversations, declared in the
    // migration), which fires for every path: delete, retention sweep, user cascade.
    check("messages_role", sql`${t.role} IN ('user', 'assistant', 'system', 'tool')`),
  ],
);

/**
 * The full-text search index of messages, kept off the append path: the indexer
 * (`convo.search.indexPending`, run by the sweep) copies the messages of closed
 * conversations here, with their `to_tsvector('russian', content)`, and moves the
 * conversation's `search_seq` in the same transaction. Noise is not copied (search
 * leaves it out). Rows go with their conversation: the trigger
 * `conversations_delete_messages` deletes them too. Keyed like `messages`.
 */
export const messageSearch = pgTable(
  "message_search",
  {
    userId: uuid("user_id").notNull(),
    conversationId: uuid("conversation_id").notNull(),
    seq: integer("seq").notNull(),
    messageId: uuid("message_id").notNull(),
    /** The message's `created_at`: hits are ordered by it, so the page needs no join to rank. */
    createdAt: ts("created_at").notNull(),
    document: tsvector("document").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.seq] }),
    // A plain GIN: a composite (user_id, document) one would need the btree_gin
    // extension, which is per database while Convo schemas share one (docs/memory.md).
    index("message_search_document_idx").using("gin", t.document),
  ],
);

/** The conversation's short-term memory document (DESIGN.md §1.5). */
export const conversationStates = pgTable(
  "conversation_states",
  {
    userId: uuid("user_id").notNull(),
    conversationId: uuid("conversation_id").notNull(),
    doc: jsonb("doc").$type<Record<string, unknown>>().notNull().default({}),
    version: integer("version").notNull().default(0),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.conversationId] }),
    foreignKey({
      name: "conversation_states_conversation_fk",
      columns: [t.userId, t.conversationId],
      foreignColumns: [conversations.userId, conversations.id],
    }).onDelete("cascade"),
  ],
);

export const runs = pgTable(
  "runs",
  {
    userId: uuid("user_id").notNull(),
    id: uuid("id").notNull().defaultRandom(),
    conversationId: uuid("conversation_id").notNull(),
    status: text("status").notNull().default("running"),
    userMessageId: uuid("user_message_id"),
    assistantMessageId: uuid("assistant_message_id"),
    model: text("model"),
    finalResponse: text("final_response"),
    inputTokens: integer("input_tokens"),
    outputTokens: integer("output_tokens"),
    totalTokens: integer("total_tokens"),
    processingTimeMs: integer("processing_time_ms"),
    error: text("error"),
    /** Options the run was started with (model, tool choice). */
    options: jsonb("options").$type<Record<string, unknown>>().notNull().default({}),
    lastEventSeq: integer("last_event_seq").notNull().default(0),
    nodeId: text("node_id"),
    leaseExpiresAt: ts("lease_expires_at"),
    cancelRequestedAt: ts("cancel_requested_at"),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
    finishedAt: ts("finished_at"),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.id] }),
    index("runs_id_idx").on(t.id),
    index("runs_conversation_idx").on(t.userId, t.conversationId, t.createdAt.desc()),
    // One run at a time per conversation.
    uniqueIndex("runs_one_running_key").on(t.userId, t.conversationId).where(sql`${t.status} = 'running'`),
    index("runs_lease_idx").on(t.leaseExpiresAt).where(sql`${t.status} = 'running'`),
    foreignKey({
      name: "runs_conversation_fk",
      columns: [t.userId, t.conversationId],
      foreignColumns: [conversations.userId, conversations.id],
    }).onDelete("cascade"),
    check("runs_status", sql`${t.status} IN ('running', 'done', 'error', 'cancelled')`),
  ],
);

export const runEvents = pgTable(
  "run_events",
  {
    userId: uuid("user_id").notNull(),
    runId: uuid("run_id").notNull(),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    content: text("content"),
    /** Type-specific fields: tool name/arguments/result, usage, model, error. */
    data: jsonb("data").$type<Record<string, unknown>>(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.runId, t.seq] }),
    foreignKey({
      name: "run_events_run_fk",
      columns: [t.userId, t.runId],
      foreignColumns: [runs.userId, runs.id],
    }).onDelete("cascade"),
    check("run_events_type", sql`${t.type} IN ('thinking', 'tool_call', 'delta', 'done', 'error', 'cancelled')`),
  ],
);

/**
 * Guided slot-filling dialogs of the sticker assistant (DESIGN.md §1.7), flat by
 * design so analytics read plain columns. `session_id` links the conversation and is
 * set null when the conversation is deleted (foreign key added in a custom migration:
 * `ON DELETE SET NULL (session_id)` must leave `user_id` alone).
 */
export const assistantSessions = pgTable(
  "assistant_sessions",
  {
    id: uuid("id").notNull().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sessionId: uuid("session_id"),
    goal: text("goal"),
    style: text("style"),
    emotion: text("emotion"),
    pose: text("pose"),
    stickerText: text("sticker_text"),
    confirmed: boolean("confirmed").notNull().default(false),
    currentStep: integer("current_step").notNull().default(0),
    messages: jsonb("messages").$type<{ role: string; content: string }[]>().notNull().default([]),
    errorCount: integer("error_count").notNull().default(0),
    pendingPhotoFileId: text("pending_photo_file_id"),
    photoFileId: text("photo_file_id"),
    status: text("status").notNull().default("active"),
    env: text("env").notNull().default("prod"),
    /** Where an imported dialog came from, so a re-run of the import adds nothing. */
    importKey: text("import_key"),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
    completedAt: ts("completed_at"),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.id] }),
    index("idx_assistant_sessions_user").on(t.userId),
    index("assistant_sessions_id_idx").on(t.id),
    uniqueIndex("assistant_sessions_one_active_key").on(t.userId).where(sql`${t.status} = 'active'`),
    index("idx_assistant_sessions_status").on(t.updatedAt).where(sql`${t.status} = 'active'`),
    index("idx_assistant_sessions_env").on(t.env),
    index("idx_assistant_sessions_created").on(t.createdAt),
    uniqueIndex("assistant_sessions_import_key").on(t.userId, t.importKey).where(sql`${t.importKey} IS NOT NULL`),
    check("valid_status", sql`${t.status} IN ('active', 'completed', 'abandoned', 'error')`),
    check("valid_step", sql`${t.currentStep} BETWEEN 0 AND 7`),
  ],
);

/**
 * Admin API keys. Not user data, so no `user_id`: a key acts for any user. Only the
 * SHA-256 of the key is stored.
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    lastUsedAt: ts("last_used_at"),
    revokedAt: ts("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_key").on(t.hash)],
);

/**
 * Webhook subscriptions (operator configuration, managed with an admin key; not user
 * data, so no `user_id`). `secret` is the Standard Webhooks signing key (`whsec_…`).
 */
export const webhookSubscriptions = pgTable("webhook_subscriptions", {
  id: uuid("id").primaryKey().defaultRandom(),
  url: text("url").notNull(),
  events: text("events").array().notNull(),
  secret: text("secret").notNull(),
  description: text("description"),
  active: boolean("active").notNull().default(true),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/**
 * The webhook outbox: one row per event, written by triggers in the same transaction
 * as the change it reports (only while a subscription wants the type). The delivering
 * node fans each one out to `webhook_deliveries`.
 */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    userId: uuid("user_id").notNull(),
    id: uuid("id").notNull().defaultRandom(),
    type: text("type").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    dispatchedAt: ts("dispatched_at"),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.id] }),
    index("webhook_events_undispatched_idx").on(t.createdAt).where(sql`${t.dispatchedAt} IS NULL`),
  ],
);

/** One event to one subscription: its state, attempts and the next try. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    userId: uuid("user_id").notNull(),
    id: uuid("id").notNull().defaultRandom(),
    eventId: uuid("event_id").notNull(),
    subscriptionId: uuid("subscription_id")
      .notNull()
      .references(() => webhookSubscriptions.id, { onDelete: "cascade" }),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: ts("created_at").notNull().defaultNow(),
    deliveredAt: ts("delivered_at"),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.id] }),
    uniqueIndex("webhook_deliveries_event_subscription_key").on(t.userId, t.eventId, t.subscriptionId),
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_subscription_idx").on(t.subscriptionId, t.createdAt.desc()),
    foreignKey({
      name: "webhook_deliveries_event_fk",
      columns: [t.userId, t.eventId],
      foreignColumns: [webhookEvents.userId, webhookEvents.id],
    }).onDelete("cascade"),
    check("webhook_deliveries_status", sql`${t.status} IN ('pending', 'delivered', 'failed')`),
  ],
);

/** The delivery log: every HTTP attempt with its outcome. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    userId: uuid("user_id").notNull(),
    deliveryId: uuid("delivery_id").notNull(),
    attempt: integer("attempt").notNull(),
    at: ts("at").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.deliveryId, t.attempt] }),
    foreignKey({
      name: "webhook_attempts_delivery_fk",
      columns: [t.userId, t.deliveryId],
      foreignColumns: [webhookDeliveries.userId, webhookDeliveries.id],
    }).onDelete("cascade"),
  ],
);

/**
 * Secrets every node of one installation shares, generated once (the first node to
 * start inserts, the others read it). Not user data, so no `user_id`. Holds the key
 * that signs list cursors (`cursor`) unless one is configured.
 */
export const serverSecrets = pgTable("server_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

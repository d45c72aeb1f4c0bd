/**
 * The context of one conversation in one statement: the user's profile, the
 * conversation, its last messages and the user's previous conversations (and, for a
 * run, the run's status). The context loader and every run read this before the
 * model is called; as four or five statements it cost a run as many round trips and
 * a fifth of its CPU on the driver (docs/performance.md).
 */
import { CONVERSATION_FIELDS, type ConversationFields, conversationFieldsFromRaw } from "../conversations/types.js";
import { type Db, queryText } from "../db/engine.js";

const MESSAGE_FIELDS = "id, seq, role, content, parts, client_message_id, created_at";

// One prepared statement (see queryText): the subqueries read the same indexes as the
// separate reads did — users by id, conversations by (user_id, id) and by
// (user_id, updated_at), messages by (conversation_id, seq) backwards.
const SNAPSHOT = `
SELECT u.profile,
  (SELECT to_jsonb(c) FROM (SELECT ${CONVERSATION_FIELDS} FROM conversations WHERE user_id = $1 AND id = $2) c) AS conversation,
  (SELECT COALESCE(jsonb_agg(m ORDER BY m.seq), '[]'::jsonb) FROM (
     SELECT ${MESSAGE_FIELDS} FROM messages
     WHERE user_id = $1 AND conversation_id = $2 AND noise = false ORDER BY seq DESC LIMIT $3) m) AS messages,
  (SELECT COALESCE(jsonb_agg(p ORDER BY p.updated_at DESC, p.id DESC), '[]'::jsonb) FROM (
     SELECT ${CONVERSATION_FIELDS} FROM conversations
     WHERE user_id = $1 AND id <> $2 ORDER BY updated_at DESC NULLS LAST, id DESC NULLS LAST LIMIT $4) p) AS previous,
  (SELECT jsonb_build_object('status', status, 'cancel_requested', cancel_requested_at IS NOT NULL)
     FROM runs WHERE user_id = $1 AND id = $5::uuid) AS run
FROM users u WHERE u.id = $1`;

/** A stored message as the context gives it to a model. */
export interface SnapshotMessage {
  id: string;
  seq: number;
  role: string;
  content: string;
  parts: unknown[] | null;
  clientMessageId: string | null;
  createdAt: Date;
}

/** A run's state as a run reads it with its context. */
export interface RunState {
  status: string;
  cancelRequested: boolean;
}

export interface ContextSnapshot {
  profile: Record<string, unknown>;
  /** Undefined when the conversation is not the user's (or does not exist). */
  conversation: ConversationFields | undefined;
  /** The last messages without noise, oldest first. */
  messages: SnapshotMessage[];
  /** The user's other conversations, most recently active first. */
  previous: ConversationFields[];
  /** The run's state when a run id was given and the run is the user's. */
  run: RunState | undefined;
}

interface RawSnapshot {
  profile: Record<string, unknown>;
  conversation: Record<string, unknown> | null;
  messages: Record<string, unknown>[];
  previous: Record<string, unknown>[];
  run: { status: string; cancel_requested: boolean } | null;
}

export class ContextSnapshotRepository {
  constructor(private readonly db: Db) {}

  /**
   * The context of conversation `conversationId` of user `userId`, in one statement;
   * undefined when the user does not exist.
   */
  async read(
    userId: string,
    conversationId: string,
    historyLimit: number,
    sessionsLimit: number,
    runId: string | null = null,
  ): Promise<ContextSnapshot | undefined> {
    const rows = await queryText<RawSnapshot>(this.db, SNAPSHOT, [userId, conversationId, historyLimit, sessionsLimit, runId]);
    const raw = rows[0];
    if (!raw) return undefined;
    return {
      profile: raw.profile,
      conversation: raw.conversation ? conversationFieldsFromRaw(raw.conversation) : undefined,
      messages: raw.messages.map((m) => ({
        id: m.id as string,
        seq: Number(m.seq),
        role: m.role as string,
        content: m.content as string,
        parts: (m.parts as unknown[] | null) ?? null,
        clientMessageId: (m.client_message_id as string | null) ?? null,
        createdAt: new Date(m.created_at as string),
      })),
      previous: raw.previous.map(conversationFieldsFromRaw),
      run: raw.run ? { status: raw.run.status, cancelRequested: raw.run.cancel_requested } : undefined,
    };
  }
}

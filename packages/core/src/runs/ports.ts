/**
 * What the run machinery needs from the other features, as small interfaces. Runs do
 * not import the context or messages services: `convo.ts` wires these ports to them,
 * so the arrows between features point one way.
 */
import type { Context, HistoryHit, LoadContextOptions, RunState } from "../context/index.js";
import type { AppendResult, Message, MessageInput, MessageRow, NewMessage } from "../messages/index.js";
import type { UnitOfWork } from "../store.js";

/** Loads the context a run's prompt is built from (the context loader). */
export interface RunContextLoader {
  /** The context, and the run's state read with it (undefined when the run is gone). */
  loadForRun(
    userId: string,
    options: LoadContextOptions,
    runId: string,
  ): Promise<{ context: Context; run: RunState | undefined }>;
}

/** Appends a message inside the caller's unit of work: the run's user message at start (the answer is stored by the runs repository with the run's end). */
export interface RunMessageWriter {
  /** Checks and normalises a message input (throws a ValidationError). */
  check(input: MessageInput): MessageInput;
  /** Appends an already checked message inside `uow` (`id`: the message's id, default random). */
  appendIn(
    uow: UnitOfWork,
    userId: string,
    conversationId: string,
    input: MessageInput,
    options?: { id?: string },
  ): Promise<AppendResult>;
  /** The row to store for checked input, for a statement that appends it with the run (the start). */
  newMessage(uow: UnitOfWork, userId: string, conversationId: string, input: MessageInput, id?: string): NewMessage;
  /** A message such a statement stored: announced once `uow` commits. */
  appended(uow: UnitOfWork, row: MessageRow): Message;
  /** Throws NotFoundError when the conversation is not the user's, ConflictError `CONVERSATION_CLOSED` when it is closed. */
  assertOpen(uow: UnitOfWork, userId: string, conversationId: string): Promise<void>;
}

/** Finds the user's earlier messages, for the built-in `search_history` tool. */
export interface RunHistorySearch {
  search(userId: string, query: string, options: { limit: number; excludeConversationId?: string }): Promise<HistoryHit[]>;
}

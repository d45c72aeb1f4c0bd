/**
 * What the run machinery needs from the other features, as small interfaces. Runs do
 * not import the context or messages services: `convo.ts` wires these ports to them,
 * so the arrows between features point one way.
 */
import type { Context, HistoryHit, LoadContextOptions, RunState } from "../context/index.js";
import type { AppendResult, MessageInput } from "../messages/index.js";
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
    /** `lockUser`: the append also takes the user's row lock (see users.lock); not with a clientMessageId. */
    options?: { id?: string; lockUser?: boolean },
  ): Promise<AppendResult>;
}

/** Finds the user's earlier messages, for the built-in `search_history` tool. */
export interface RunHistorySearch {
  search(userId: string, query: string, options: { limit: number; excludeConversationId?: string }): Promise<HistoryHit[]>;
}

/**
 * The port: the few Convo operations the Telegram toolkit needs, as one small
 * interface. Two adapters implement it — `localPort(convo)` calls the library
 * in-process, `httpPort({ url, apiKey })` calls a Convo server — so the middleware,
 * the session storage and the reference bot run the same code either way.
 */

/** A Convo user as the toolkit sees it. */
export interface PortUser {
  id: string;
  externalId: string | null;
  displayName: string | null;
  profile: Record<string, unknown>;
}

/** A stored message. */
export interface PortMessage {
  id: string;
  conversationId: string;
  seq: number;
  role: string;
  content: string;
  parts: unknown[] | null;
  noise: boolean;
  clientMessageId: string | null;
}

/** A conversation, reduced to what the toolkit reads. */
export interface PortConversation {
  id: string;
  externalId: string | null;
  messageCount: number;
}

/** A message to store. */
export interface RecordInput {
  role: "user" | "assistant" | "system";
  content: string;
  parts?: unknown[] | null;
  noise?: boolean;
  clientMessageId?: string;
}

/** The conversation's state document and its version (0 = never written). */
export interface PortState {
  version: number;
  doc: Record<string, unknown>;
}

/** Context for the model (see Convo's `POST /v1/users/:userId/context`). */
export interface PortContext {
  conversation: PortConversation | null;
  conversationHistory: Array<{ role: string; content: string; parts?: unknown[] | null }>;
  sessionHistory: Array<{ id: string; title: string | null; status: string; messageCount: number; summary: string | null }>;
  userProfile: Record<string, unknown>;
}

/** One event of a run (`delta`, `done`, `error`, …). */
export interface PortRunEvent {
  seq: number;
  type: string;
  content: string | null;
  code?: string;
}

/** Dialog statuses a dialog can be closed with. */
export type PortDialogCloseStatus = "completed" | "abandoned" | "error";

/** A chat line of a dialog. */
export interface PortDialogMessage {
  role: "user" | "assistant" | "system";
  content: string;
}

/** An assistant dialog (`assistant_sessions`), without its timestamps. */
export interface PortDialog {
  id: string;
  userId: string;
  sessionId: string | null;
  goal: string | null;
  style: string | null;
  emotion: string | null;
  pose: string | null;
  stickerText: string | null;
  confirmed: boolean;
  currentStep: number;
  messages: Array<{ role: string; content: string }>;
  errorCount: number;
  pendingPhotoFileId: string | null;
  photoFileId: string | null;
  status: "active" | "completed" | "abandoned" | "error";
  env: string;
}

/** What `update` may change (see docs/dialogs.md, "Inputs"). */
export interface PortDialogUpdate {
  goal?: string | null;
  style?: string | null;
  emotion?: string | null;
  pose?: string | null;
  stickerText?: string | null;
  confirmed?: boolean;
  currentStep?: number;
  photoFileId?: string | null;
  pendingPhotoFileId?: string | null;
  appendMessages?: PortDialogMessage[];
}

/** A dialog the expiry abandoned, and its owner's external id (`tg:<id>`). */
export interface PortExpiredDialog {
  dialogId: string;
  userId: string;
  env: string;
  externalId: string | null;
}

/**
 * Everything the toolkit asks of Convo. Implemented by `localPort` and `httpPort`;
 * implement it yourself to put a cache or a queue in between.
 */
export interface ConvoPort {
  /** Finds the user by `externalId` or creates it (`created` tells which). */
  ensureUser(input: {
    externalId: string;
    displayName?: string | null;
    profile?: Record<string, unknown>;
  }): Promise<{ user: PortUser; created: boolean }>;
  /** Changes the user's display name and profile (the profile is replaced whole). */
  updateUser(userId: string, patch: { displayName?: string | null; profile?: Record<string, unknown> }): Promise<PortUser>;
  /**
   * Appends to the user's current conversation in `env` (or to the one keyed
   * `conversationKey`); a repeated `clientMessageId` stores nothing and answers the
   * stored message with `created: false`.
   */
  appendToCurrent(
    userId: string,
    input: RecordInput & { conversationKey?: string; env?: string },
  ): Promise<{ message: PortMessage; created: boolean; conversation: PortConversation }>;
  /** Appends to a given conversation. */
  append(userId: string, conversationId: string, input: RecordInput): Promise<{ message: PortMessage; created: boolean }>;
  /** The user's conversation keyed `key`, created on first use. */
  openConversation(userId: string, key: string, env?: string): Promise<PortConversation>;
  getState(userId: string, conversationId: string): Promise<PortState>;
  /** Replaces the state when `expectedVersion` is current; a stale one fails with `STATE_VERSION_CONFLICT`. */
  replaceState(userId: string, conversationId: string, doc: Record<string, unknown>, expectedVersion: number): Promise<PortState>;
  context(
    userId: string,
    options?: { conversationId?: string; historyLimit?: number; sessionsLimit?: number; env?: string },
  ): Promise<PortContext>;
  /** Starts a run answering the stored user message `messageId` (a second start answers the same run). */
  startRun(
    userId: string,
    conversationId: string,
    input: { messageId: string; model?: string },
  ): Promise<{ runId: string; created: boolean }>;
  /** The run's events after `after`, until it ends. */
  followRun(userId: string, runId: string, after?: number): AsyncIterable<PortRunEvent>;
  dialogs: {
    create(userId: string, input?: { env?: string; sessionId?: string | null }): Promise<PortDialog>;
    active(userId: string): Promise<PortDialog | null>;
    update(userId: string, id: string, update: PortDialogUpdate): Promise<PortDialog>;
    close(userId: string, id: string, status: PortDialogCloseStatus): Promise<PortDialog>;
    closeActive(userId: string, status?: PortDialogCloseStatus): Promise<PortDialog | null>;
    recordModelError(userId: string, id: string): Promise<{ dialog: PortDialog; fellBack: boolean }>;
    recordModelSuccess(userId: string, id: string): Promise<PortDialog>;
    setPendingPhoto(userId: string, id: string, fileId: string): Promise<PortDialog>;
    resolvePendingPhoto(userId: string, id: string, choice: "keep" | "take"): Promise<PortDialog>;
    /** Abandons every dialog idle past the threshold now; answers them with their owners. */
    expireIdle(): Promise<PortExpiredDialog[]>;
  };
}

/**
 * `createConvoClient()`: every route of Convo's HTTP API as a typed method, for
 * browsers and Node. Types come from `@convo/protocol` (types only: no Zod, no
 * server code reaches a bundle).
 */
import type {
  AnalyticsQuery,
  AnalyticsReportName,
  AppendMessageBody,
  AppendToCurrentBody,
  CloseConversationBody,
  CloseDialogBody,
  CombosReport,
  Context,
  ContextBody,
  ConversationDetail,
  ConversationList,
  ConversationState,
  ConversationSummary,
  CreateConversationBody,
  CreateDialogBody,
  CreateUserBody,
  Dialog,
  EventPage,
  EventsQuery,
  ExpiredDialogsResponse,
  FunnelReport,
  GoalsReport,
  ListConversationsQuery,
  ListRunsQuery,
  ListUsersQuery,
  Message,
  MessageList,
  MessagesQuery,
  ModelErrorResponse,
  PatchConversationBody,
  PatchUserBody,
  PendingPhotoBody,
  ResolvePhotoBody,
  RunEvent,
  RunList,
  RunRecord,
  StartRunBody,
  StartRunRequest,
  StartRunResponse,
  StateDoc,
  StatusesReport,
  StepsReport,
  StopResponse,
  StreamTokenBody,
  StreamTokenResponse,
  StylesReport,
  UpdateDialogBody,
  User,
  UserList,
} from "@convo/protocol";
import {
  type ConversationItem,
  type FollowConversationOptions,
  type FollowRunOptions,
  followConversation,
  followRun,
} from "./follow.js";
import { type Call, Http, type HttpOptions, type RequestOptions } from "./http.js";
import { randomId } from "./ids.js";
import { defaultPendingRuns, type PendingRun, type PendingRunStore } from "./pending.js";

export interface ConvoClientOptions extends HttpOptions {
  /** Where unfinished runs are remembered (default: localStorage in a browser, memory in Node). */
  pendingRuns?: PendingRunStore;
}

/** A message appended to the current conversation, with that conversation. */
export type AppendToCurrentResult = Message & { conversation: ConversationSummary; conversationCreated: boolean };

/** The reports of `analytics.report`, by name. */
export interface AnalyticsReports {
  goals: GoalsReport;
  styles: StylesReport;
  funnel: FunnelReport;
  statuses: StatusesReport;
  steps: StepsReport;
  combos: CombosReport;
}

/** A followed run's events, with the run they belong to. */
export interface ResumedRun {
  run: PendingRun;
  events: AsyncGenerator<RunEvent>;
}

const enc = encodeURIComponent;

/**
 * A client for one Convo server.
 *
 * @example
 * import { createConvoClient } from "@convo/client";
 *
 * const convo = createConvoClient({ baseUrl: "http://127.0.0.1:8787", token: userToken });
 * const { runId } = await convo.runs.start(conversationId, { content: "Который час?" });
 * for await (const event of convo.runs.follow(runId)) {
 *   if (event.type === "delta") process.stdout.write(event.content ?? "");
 * }
 */
export function createConvoClient(options: ConvoClientOptions = {}) {
  const http = new Http(options);
  const pending = options.pendingRuns ?? defaultPendingRuns();
  const call = <T>(c: Call) => http.json<T>(c);

  /** Follows a run, remembering the last seq shown until its terminal event. */
  async function* trackedFollow(runId: string, conversationId: string | undefined, follow: FollowRunOptions) {
    const known = pending.list().find((run) => run.runId === runId);
    const cid = conversationId ?? known?.conversationId;
    for await (const event of followRun(http, runId, follow)) {
      yield event;
      // Saved once the caller has taken the event: a reload resumes after what was shown.
      if (event.type === "done" || event.type === "error" || event.type === "cancelled") pending.remove(runId);
      else if (cid !== undefined) pending.put({ runId, conversationId: cid, after: event.seq });
    }
  }

  const runs = {
    /**
     * Starts a run (202 at once); a `clientMessageId` is generated when none is given,
     * so a retried start answers the same run. The run is remembered as pending.
     */
    async start(conversationId: string, body: StartRunRequest, opts: RequestOptions = {}): Promise<StartRunResponse> {
      // A start that answers an already stored message (`messageId`) is idempotent by that id.
      const withId =
        "messageId" in body ? body : { ...body, clientMessageId: (body as StartRunBody).clientMessageId ?? randomId() };
      const started = await call<StartRunResponse>({
        method: "POST",
        path: `/v1/conversations/${enc(conversationId)}/runs`,
        body: withId,
        idempotent: true,
        ...opts,
      });
      if (started.status === "running") pending.put({ runId: started.runId, conversationId, after: 0 });
      return started;
    },
    get: (runId: string, opts: RequestOptions = {}) =>
      call<RunRecord>({ method: "GET", path: `/v1/runs/${enc(runId)}`, ...opts }),
    list: (conversationId: string, query: ListRunsQuery = {}, opts: RequestOptions = {}) =>
      call<RunList>({ method: "GET", path: `/v1/conversations/${enc(conversationId)}/runs`, query, ...opts }),
    /** Events after a seq; with `wait`, long-polls up to that many seconds. */
    events: (runId: string, query: EventsQuery = {}, opts: RequestOptions = {}) =>
      call<EventPage>({ method: "GET", path: `/v1/runs/${enc(runId)}/events`, query, ...opts }),
    cancel: (runId: string, opts: RequestOptions = {}) =>
      call<RunRecord>({ method: "POST", path: `/v1/runs/${enc(runId)}/cancel`, idempotent: true, ...opts }),
    /**
     * Every event of the run after `after`, exactly once, ending after the terminal
     * event; resumes after drops (SSE with Last-Event-ID, long-poll fallback).
     */
    follow: (runId: string, follow: FollowRunOptions & { conversationId?: string } = {}) =>
      trackedFollow(runId, follow.conversationId, follow),
    /** The runs started here (or followed) that have not been seen to end. */
    pending: (): PendingRun[] => pending.list(),
    /**
     * Resumes every pending run: `from: "last-seen"` (default) yields only events after
     * the last one shown; `from: "start"` replays each run from its first event (a page
     * that lost what it showed rebuilds it).
     */
    resumePending(resume: Omit<FollowRunOptions, "after"> & { from?: "last-seen" | "start" } = {}): ResumedRun[] {
      return pending.list().map((run) => ({
        run,
        events: trackedFollow(run.runId, run.conversationId, { ...resume, after: resume.from === "start" ? 0 : run.after }),
      }));
    },
  };

  return {
    users: {
      /** Creates a user, or answers the one with this `externalId` (safe to retry with one). */
      create: (body: CreateUserBody = {}, opts: RequestOptions = {}) =>
        call<User>({ method: "POST", path: "/v1/users", body, idempotent: body.externalId !== undefined, ...opts }),
      /** All users, newest first, by cursor (admin keys; an operator's user picker). */
      list: (query: ListUsersQuery = {}, opts: RequestOptions = {}) =>
        call<UserList>({ method: "GET", path: "/v1/users", query, ...opts }),
      get: (userId: string, opts: RequestOptions = {}) =>
        call<User>({ method: "GET", path: `/v1/users/${enc(userId)}`, ...opts }),
      update: (userId: string, body: PatchUserBody, opts: RequestOptions = {}) =>
        call<User>({ method: "PATCH", path: `/v1/users/${enc(userId)}`, body, ...opts }),
    },
    conversations: {
      create: (userId: string, body: CreateConversationBody = {}, opts: RequestOptions = {}) =>
        call<ConversationSummary>({ method: "POST", path: `/v1/users/${enc(userId)}/conversations`, body, ...opts }),
      list: (userId: string, query: ListConversationsQuery = {}, opts: RequestOptions = {}) =>
        call<ConversationList>({ method: "GET", path: `/v1/users/${enc(userId)}/conversations`, query, ...opts }),
      get: (id: string, opts: RequestOptions = {}) =>
        call<ConversationDetail>({ method: "GET", path: `/v1/conversations/${enc(id)}`, ...opts }),
      update: (id: string, body: PatchConversationBody, opts: RequestOptions = {}) =>
        call<ConversationSummary>({ method: "PATCH", path: `/v1/conversations/${enc(id)}`, body, idempotent: true, ...opts }),
      close: (id: string, body: CloseConversationBody = {}, opts: RequestOptions = {}) =>
        call<ConversationSummary>({
          method: "POST",
          path: `/v1/conversations/${enc(id)}/close`,
          body,
          idempotent: true,
          ...opts,
        }),
      delete: (id: string, opts: RequestOptions = {}) =>
        call<void>({ method: "DELETE", path: `/v1/conversations/${enc(id)}`, ...opts }),
      /** New messages and run events of the conversation, live, each once. */
      follow: (id: string, follow: FollowConversationOptions = {}): AsyncGenerator<ConversationItem> =>
        followConversation(http, id, follow),
    },
    messages: {
      /** Appends a message; a `clientMessageId` is generated when none is given, so retries store it once. */
      append: (conversationId: string, body: AppendMessageBody, opts: RequestOptions = {}) =>
        call<Message>({
          method: "POST",
          path: `/v1/conversations/${enc(conversationId)}/messages`,
          body: { ...body, clientMessageId: body.clientMessageId ?? randomId() },
          idempotent: true,
          ...opts,
        }),
      list: (conversationId: string, query: MessagesQuery = {}, opts: RequestOptions = {}) =>
        call<MessageList>({ method: "GET", path: `/v1/conversations/${enc(conversationId)}/messages`, query, ...opts }),
      /** "This user said X": appends to the current conversation (or the one keyed `externalId`). */
      appendToCurrent: (userId: string, body: AppendToCurrentBody, opts: RequestOptions = {}) =>
        call<AppendToCurrentResult>({
          method: "POST",
          path: `/v1/users/${enc(userId)}/messages`,
          body: { ...body, clientMessageId: body.clientMessageId ?? randomId() },
          idempotent: true,
          ...opts,
        }),
    },
    state: {
      get: (conversationId: string, opts: RequestOptions = {}) =>
        call<ConversationState>({ method: "GET", path: `/v1/conversations/${enc(conversationId)}/state`, ...opts }),
      /** Replaces the state document if it is still at `version` (else 409 `STATE_CONFLICT`…). */
      replace: (conversationId: string, state: StateDoc, version: number, opts: RequestOptions = {}) =>
        call<ConversationState>({
          method: "PUT",
          path: `/v1/conversations/${enc(conversationId)}/state`,
          body: state,
          headers: { "if-match": `"${version}"` },
          ...opts,
        }),
      /** Applies a JSON merge patch if the state is still at `version`. */
      patch: (conversationId: string, patch: StateDoc, version: number, opts: RequestOptions = {}) =>
        call<ConversationState>({
          method: "PATCH",
          path: `/v1/conversations/${enc(conversationId)}/state`,
          body: patch,
          headers: { "if-match": `"${version}"` },
          ...opts,
        }),
    },
    context: {
      load: (userId: string, body: ContextBody = {}, opts: RequestOptions = {}) =>
        call<Context>({ method: "POST", path: `/v1/users/${enc(userId)}/context`, body, idempotent: true, ...opts }),
    },
    runs,
    dialogs: {
      create: (userId: string, body: CreateDialogBody = {}, opts: RequestOptions = {}) =>
        call<Dialog>({ method: "POST", path: `/v1/users/${enc(userId)}/assistant-sessions`, body, ...opts }),
      active: (userId: string, opts: RequestOptions = {}) =>
        call<Dialog>({ method: "GET", path: `/v1/users/${enc(userId)}/assistant-sessions/active`, ...opts }),
      get: (id: string, opts: RequestOptions = {}) =>
        call<Dialog>({ method: "GET", path: `/v1/assistant-sessions/${enc(id)}`, ...opts }),
      update: (id: string, body: UpdateDialogBody, opts: RequestOptions = {}) =>
        call<Dialog>({ method: "PATCH", path: `/v1/assistant-sessions/${enc(id)}`, body, ...opts }),
      close: (id: string, body: CloseDialogBody, opts: RequestOptions = {}) =>
        call<Dialog>({ method: "POST", path: `/v1/assistant-sessions/${enc(id)}/close`, body, ...opts }),
      /** Counts a model error; the third in a row ends the dialog as `error`. */
      recordError: (id: string, opts: RequestOptions = {}) =>
        call<ModelErrorResponse>({ method: "POST", path: `/v1/assistant-sessions/${enc(id)}/errors`, ...opts }),
      /** Resets the error count after a good model answer. */
      recordSuccess: (id: string, opts: RequestOptions = {}) =>
        call<Dialog>({ method: "POST", path: `/v1/assistant-sessions/${enc(id)}/successes`, ...opts }),
      setPendingPhoto: (id: string, body: PendingPhotoBody, opts: RequestOptions = {}) =>
        call<Dialog>({ method: "POST", path: `/v1/assistant-sessions/${enc(id)}/pending-photo`, body, ...opts }),
      resolvePendingPhoto: (id: string, body: ResolvePhotoBody, opts: RequestOptions = {}) =>
        call<Dialog>({ method: "POST", path: `/v1/assistant-sessions/${enc(id)}/pending-photo/resolve`, body, ...opts }),
      /** Ends every dialog idle past the limit as abandoned and answers them (admin keys; a bot tells each user). */
      expire: (opts: RequestOptions = {}) =>
        call<ExpiredDialogsResponse>({ method: "POST", path: "/v1/assistant-sessions/expire", ...opts }),
    },
    analytics: {
      /** One dialog analytics report (admin keys). */
      report: <N extends AnalyticsReportName>(name: N, query: AnalyticsQuery = {}, opts: RequestOptions = {}) =>
        call<AnalyticsReports[N]>({ method: "GET", path: `/v1/analytics/assistant/${name}`, query, ...opts }),
    },
    chat: {
      /** Cancels the conversation's running run (what `useChat`'s stop button should also call). */
      stop: (conversationId: string, opts: RequestOptions = {}) =>
        call<StopResponse>({ method: "POST", path: `/v1/chat/${enc(conversationId)}/stop`, idempotent: true, ...opts }),
    },
    streamTokens: {
      /** A 60-second `?access_token=` for one run's or one conversation's GET stream route (EventSource). */
      create: (body: StreamTokenBody, opts: RequestOptions = {}) =>
        call<StreamTokenResponse>({ method: "POST", path: "/v1/stream-tokens", body, idempotent: true, ...opts }),
      /** The URL of a stream route with a fresh token, for `new EventSource(url)`. */
      async url(body: StreamTokenBody, opts: RequestOptions = {}): Promise<string> {
        const { token } = await call<StreamTokenResponse>({
          method: "POST",
          path: "/v1/stream-tokens",
          body,
          idempotent: true,
          ...opts,
        });
        const path =
          "runId" in body ? `/v1/runs/${enc(body.runId)}/stream` : `/v1/conversations/${enc(body.conversationId)}/stream`;
        return http.url(path, { access_token: token });
      },
    },
    /**
     * Any call, answered with its status beside the JSON body: for callers that tell a
     * first store (201, 202) from a replay (200), or a 404 from an error. Error statuses
     * still throw `ConvoApiError`; `idempotent` calls retry like the typed methods.
     *
     * @example
     * const { status, body } = await convo.request<Message>({ method: "POST", path: `/v1/conversations/${id}/messages`, body: msg, idempotent: true });
     * const stored = status === 201;
     */
    async request<T>(c: Call): Promise<{ status: number; body: T }> {
      const response = await http.ok(c);
      const text = response.status === 204 ? "" : await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    ops: {
      health: (opts: RequestOptions = {}) => call<{ status: string }>({ method: "GET", path: "/healthz", ...opts }),
      ready: (opts: RequestOptions = {}) => call<{ status: string }>({ method: "GET", path: "/readyz", ...opts }),
    },
  };
}

/** The client `createConvoClient` answers. */
export type ConvoClient = ReturnType<typeof createConvoClient>;

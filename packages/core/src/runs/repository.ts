/**
 * SQL for runs and their event logs. Event `seq` is per run and gap-free: the run row
 * is locked while its `last_event_seq` counter is read and bumped in the same
 * statement that inserts the events, and only a `running` run takes events, so
 * nothing is ever stored after a run's terminal event.
 */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { appendCte } from "../db/append-cte.js";
import { type Db, queryRows, queryText } from "../db/engine.js";
import { runEvents, runs } from "../db/schema.js";
import { appendParams, type NewMessage } from "../messages/types.js";
import type { AppendedEvents, NewRunEvent, RunEventRow, RunFinish, RunRow } from "./types.js";

interface RawRun {
  user_id: string;
  id: string;
  conversation_id: string;
  status: string;
  user_message_id: string | null;
  assistant_message_id: string | null;
  model: string | null;
  final_response: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  processing_time_ms: number | null;
  error: string | null;
  options: Record<string, unknown>;
  last_event_seq: number;
  node_id: string | null;
  lease_expires_at: Date | string | null;
  cancel_requested_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  finished_at: Date | string | null;
}

const date = (v: Date | string) => (v instanceof Date ? v : new Date(v));
const maybeDate = (v: Date | string | null) => (v == null ? null : date(v));
const maybeInt = (v: number | string | null) => (v == null ? null : Number(v));

const fromRaw = (r: RawRun): RunRow => ({
  userId: r.user_id,
  id: r.id,
  conversationId: r.conversation_id,
  status: r.status,
  userMessageId: r.user_message_id,
  assistantMessageId: r.assistant_message_id,
  model: r.model,
  finalResponse: r.final_response,
  inputTokens: maybeInt(r.input_tokens),
  outputTokens: maybeInt(r.output_tokens),
  totalTokens: maybeInt(r.total_tokens),
  processingTimeMs: maybeInt(r.processing_time_ms),
  error: r.error,
  options: r.options,
  lastEventSeq: Number(r.last_event_seq),
  nodeId: r.node_id,
  leaseExpiresAt: maybeDate(r.lease_expires_at),
  cancelRequestedAt: maybeDate(r.cancel_requested_at),
  createdAt: date(r.created_at),
  updatedAt: date(r.updated_at),
  finishedAt: maybeDate(r.finished_at),
});

const r = runs;
const e = runEvents;

/** Events as the statements that store them read them: `jsonb_array_elements` of `{ t, c, d }`. */
const eventsPayload = (events: NewRunEvent[]) =>
  JSON.stringify(events.map((ev) => ({ t: ev.type, c: ev.content ?? null, d: ev.data ?? null })));

const RUN_FIELDS =
  "user_id, id, conversation_id, status, user_message_id, assistant_message_id, model, final_response, input_tokens, " +
  "output_tokens, total_tokens, processing_time_ms, error, options, last_event_seq, node_id, lease_expires_at, " +
  "cancel_requested_at, created_at, updated_at, finished_at";

/** What a start stores besides its ids and time: the run's settings, its limit and first event. */
interface RunningValues {
  model: string;
  options: Record<string, unknown>;
  nodeId: string;
  leaseExpiresAt: Date;
  maxPerUser: number;
}

/** The seven parameters `runningRunCtes` numbers from its `at`. */
const runningParams = (values: RunningValues, first: NewRunEvent): unknown[] => [
  values.model,
  JSON.stringify(values.options),
  values.nodeId,
  values.leaseExpiresAt,
  first.type,
  first.content ?? null,
  first.data ? JSON.stringify(first.data) : null,
];

/**
 * The CTEs `run` (a running run of user $1 in conversation $2, at event seq 1) and `ev`
 * (its first event), shared by the two start statements. `at` is the number of the
 * first of `runningParams`; `userMessageId` and `now` are SQL; `tail` ends the run's
 * SELECT (its source and conditions).
 */
function runningRunCtes(p: { at: number; userMessageId: string; now: string; tail: string }): string {
  const n = (i: number) => `$${p.at + i}`;
  return `run AS (
  INSERT INTO runs (user_id, id, conversation_id, status, user_message_id, model, options, node_id,
                    lease_expires_at, last_event_seq, created_at, updated_at)
  SELECT $1::uuid, gen_random_uuid(), $2::uuid, 'running', ${p.userMessageId}, ${n(0)}, ${n(1)}::jsonb, ${n(2)},
         ${n(3)}::timestamptz, 1, ${p.now}::timestamptz, ${p.now}::timestamptz
  ${p.tail}
  RETURNING ${RUN_FIELDS}
), ev AS (
  INSERT INTO run_events (user_id, run_id, seq, type, content, data, created_at)
  SELECT user_id, id, 1, ${n(4)}, ${n(5)}::text, ${n(6)}::jsonb, ${p.now}::timestamptz
  FROM run
  RETURNING 1
)`;
}

// Plain text on the driver (prepared, see queryText): the start of a run that may
// replay a clientMessageId, or answers a stored message. The per-user count sees
// concurrent starts of the same user because the caller locked the user's row in an
// earlier statement (each statement takes a fresh snapshot). The
// one-running-run-per-conversation rule is the partial unique index; ON CONFLICT turns
// a second start into "nothing inserted" instead of an aborted transaction.
// $1 user, $2 conversation, $3 user message, $4 now, $5 the per-user limit, then runningParams.
const INSERT_RUNNING = `
WITH ${runningRunCtes({
  at: 6,
  userMessageId: "$3::uuid",
  now: "$4",
  tail: `WHERE (SELECT count(*) FROM runs WHERE user_id = $1::uuid AND status = 'running') < $5
  ON CONFLICT (user_id, conversation_id) WHERE status = 'running' DO NOTHING`,
})}
SELECT ${RUN_FIELDS} FROM run`;

// The run start's hot path (a user message without a clientMessageId) in one
// autocommit statement: the gate (migration 0009) locks the user's row and counts with
// a snapshot taken after that lock; the append runs only when the gate lets it
// (no run running in the conversation, fewer than $11 running for the user), and the
// run and its first event follow from the stored message. A refused gate or a closed
// conversation writes nothing; the answer always holds the gate's value.
// $1–$10 the append (db/append-cte.ts), $11 the per-user limit, then runningParams.
const START_WITH_MESSAGE = `${appendCte({
  cte: "g AS (SELECT run_start_gate($1::uuid, $2::uuid) AS gate)",
  condition: "(SELECT gate FROM g) BETWEEN 0 AND $11::int - 1",
})}, ${runningRunCtes({ at: 12, userMessageId: "ins.id", now: "$8", tail: "FROM ins" })}
SELECT g.gate, ins.id AS message_id, ins.seq AS message_seq, run.*
FROM g LEFT JOIN ins ON true LEFT JOIN run ON true`;

/** CTE `locked`: the run's row, locked, while it is running. */
const lockedRun = (user: string, run: string) => `locked AS (
  SELECT user_id, id, last_event_seq FROM runs
  WHERE user_id = ${user} AND id = ${run} AND status = 'running'
  FOR UPDATE
)`;

/** CTE `evs`: the events of the jsonb array `payload` (see eventsPayload), numbered on from the locked run's last seq. */
const eventsCte = (p: { payload: string; now: string; from?: string }) => `evs AS (
  INSERT INTO run_events (user_id, run_id, seq, type, content, data, created_at)
  SELECT locked.user_id, locked.id, locked.last_event_seq + ev.n, ev.v->>'t', ev.v->>'c',
         NULLIF(ev.v->'d', 'null'::jsonb), ${p.now}::timestamptz
  FROM locked${p.from ?? ""}, jsonb_array_elements(${p.payload}::jsonb) WITH ORDINALITY AS ev(v, n)
  RETURNING seq
)`;

// A run's intermediate events (see appendProgress); `relaxed` adds the per-transaction
// synchronous_commit off.
const appendProgressText = (relaxed: boolean) => `
WITH ${lockedRun("$1", "$2")}${relaxed ? ", relaxed AS (SELECT set_config('synchronous_commit', 'off', true) AS v)" : ""},
${eventsCte({ payload: "$4", now: "$3" })}, bumped AS (
  UPDATE runs AS t SET last_event_seq = locked.last_event_seq + $5::int, updated_at = $3::timestamptz
  FROM locked WHERE t.user_id = locked.user_id AND t.id = locked.id
  RETURNING t.last_event_seq
)
SELECT bumped.last_event_seq,
       pg_notify($6::text, ($7::jsonb || jsonb_build_object('seq', bumped.last_event_seq))::text)::text AS notified
FROM bumped${relaxed ? ", relaxed" : ""}`;
const APPEND_PROGRESS = appendProgressText(false);
const APPEND_PROGRESS_RELAXED = appendProgressText(true);

// The run's `done` in one statement (see finishWithAnswer): the answer is appended as
// any message is (db/append-cte.ts: $1–$10, the message's id and run id being the
// run's, $7), but only while the run is locked running; the events and the run's fields
// follow only from the stored message, so a closed conversation or an ended run stores
// nothing at all. $11 the events, $12 their number, $13–$17 the run's final fields.
const FINISH_WITH_ANSWER = `${appendCte({ cte: lockedRun("$1", "$7::uuid"), condition: "EXISTS (SELECT 1 FROM locked)" })},
${eventsCte({ payload: "$11", now: "$8", from: ", ins" })}, bumped AS (
  UPDATE runs AS t SET
    last_event_seq = locked.last_event_seq + $12::int, updated_at = $8::timestamptz,
    status = 'done', finished_at = $8::timestamptz, lease_expires_at = NULL, final_response = $4::text,
    model = COALESCE($13::text, t.model), input_tokens = $14::int, output_tokens = $15::int, total_tokens = $16::int,
    processing_time_ms = $17::int, error = NULL, assistant_message_id = $7::uuid
  FROM locked, ins
  WHERE t.user_id = locked.user_id AND t.id = locked.id
  RETURNING t.last_event_seq
)
SELECT (SELECT count(*) FROM locked)::int AS running, (SELECT seq FROM ins) AS message_seq,
       (SELECT last_event_seq FROM bumped) AS last_event_seq`;

export class RunsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts a running run with its first event (seq 1) in one statement, unless the
   * conversation already has a running run or the user has `maxPerUser` running.
   * Answers undefined when nothing was inserted.
   */
  async insertRunning(
    values: RunningValues & { userId: string; conversationId: string; userMessageId: string; now: Date },
    first: NewRunEvent,
  ): Promise<RunRow | undefined> {
    const rows = await queryText<RawRun>(this.db, INSERT_RUNNING, [
      values.userId,
      values.conversationId,
      values.userMessageId,
      values.now,
      values.maxPerUser,
      ...runningParams(values, first),
    ]);
    return rows[0] ? fromRaw(rows[0]) : undefined;
  }

  /**
   * Appends the user message `msg` (no clientMessageId), stores the run answering it
   * `running` with its first event, in one statement (START_WITH_MESSAGE). `gate` is
   * -2 when the user does not exist, -1 when the conversation has a running run, else
   * the user's running runs before this one; `run` is undefined when nothing was
   * written (the gate refused, or the conversation is not the user's or is closed).
   */
  async startWithMessage(
    msg: NewMessage,
    values: RunningValues,
    first: NewRunEvent,
  ): Promise<{ gate: number; message?: { id: string; seq: number }; run?: RunRow }> {
    const [row] = await queryText<RawRun & { gate: number; message_id: string | null; message_seq: number | null }>(
      this.db,
      START_WITH_MESSAGE,
      [...appendParams(msg), values.maxPerUser, ...runningParams(values, first)],
    );
    const gate = Number(row?.gate ?? -2);
    if (!row?.message_id || !row.id) return { gate };
    return { gate, message: { id: row.message_id, seq: Number(row.message_seq) }, run: fromRaw(row) };
  }

  async find(userId: string, id: string): Promise<RunRow | undefined> {
    const rows = await this.db
      .select()
      .from(r)
      .where(and(eq(r.userId, userId), eq(r.id, id)))
      .limit(1);
    return rows[0];
  }

  /** The owner of a run, looked up by id alone; only for admin requests that name no user. */
  async ownerOf(id: string): Promise<string | undefined> {
    const rows = await this.db.select({ userId: r.userId }).from(r).where(eq(r.id, id)).limit(1);
    return rows[0]?.userId;
  }

  /** The run a user message started, if any. */
  async findByUserMessage(userId: string, conversationId: string, userMessageId: string): Promise<RunRow | undefined> {
    const rows = await this.db
      .select()
      .from(r)
      .where(and(eq(r.userId, userId), eq(r.conversationId, conversationId), eq(r.userMessageId, userMessageId)))
      // The run the message started, not a later regeneration of its answer.
      .orderBy(asc(r.createdAt))
      .limit(1);
    return rows[0];
  }

  /** The conversation's running run, if any. */
  async findRunning(userId: string, conversationId: string): Promise<RunRow | undefined> {
    const rows = await this.db
      .select()
      .from(r)
      .where(and(eq(r.userId, userId), eq(r.conversationId, conversationId), eq(r.status, "running")))
      .limit(1);
    return rows[0];
  }

  async countRunning(userId: string): Promise<number> {
    const rows = await this.db
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(r)
      .where(and(eq(r.userId, userId), eq(r.status, "running")));
    return rows[0]?.n ?? 0;
  }

  /**
   * A conversation's runs, newest first, after the keyset position `after`; one more
   * than `limit` so the caller knows whether there is a next page.
   */
  async page(
    userId: string,
    conversationId: string,
    limit: number,
    after?: { createdAt: string; id: string },
  ): Promise<RunRow[]> {
    const conditions = [eq(r.userId, userId), eq(r.conversationId, conversationId)];
    if (after) conditions.push(sql`(${r.createdAt}, ${r.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
    return this.db
      .select()
      .from(r)
      .where(and(...conditions))
      .orderBy(sql`${r.createdAt} DESC NULLS LAST`, sql`${r.id} DESC`) // matches runs_conversation_idx
      .limit(limit + 1);
  }

  /**
   * Stores a running run's intermediate events (text, reasoning, tool calls) in one
   * prepared statement that also sends their notice to the other nodes: the run row
   * is locked, the events take `last_event_seq + 1…n`, and `pg_notify(channel,
   * notice + seq)` goes out with the commit — no NOTIFY statement of its own. Answers
   * undefined, storing nothing, when the run is not running.
   *
   * `relaxed`: the commit does not wait for its WAL flush (synchronous_commit off for
   * this one-statement transaction). WAL is written in order, so any later durable
   * commit (the terminal event, the assistant message) makes these durable too, and a
   * crash before that loses only the tail of a run that then ends as interrupted
   * (lease expiry). The NOTIFY's commit lock is then held only briefly. Never inside
   * a caller's transaction.
   */
  async appendProgress(
    userId: string,
    runId: string,
    events: NewRunEvent[],
    now: Date,
    notify: { channel: string; notice: string },
    options: { relaxed?: boolean } = {},
  ): Promise<{ lastSeq: number } | undefined> {
    if (events.length === 0) throw new Error("appendProgress needs at least one event");
    const payload = eventsPayload(events);
    const rows = await queryText<{ last_event_seq: number }>(
      this.db,
      options.relaxed ? APPEND_PROGRESS_RELAXED : APPEND_PROGRESS,
      [userId, runId, now, payload, events.length, notify.channel, notify.notice],
    );
    const row = rows[0];
    return row ? { lastSeq: Number(row.last_event_seq) } : undefined;
  }

  /**
   * Appends events to a running run in one statement: the run row is locked, the
   * events take `last_event_seq + 1…n`, and the counter moves with them. With `finish`
   * the same statement ends the run (status and final fields). Answers undefined —
   * storing nothing — when the run is not running (finished, expired or unknown).
   */
  async appendEvents(
    userId: string,
    runId: string,
    events: NewRunEvent[],
    now: Date,
    finish?: RunFinish,
  ): Promise<AppendedEvents | undefined> {
    if (events.length === 0) throw new Error("appendEvents needs at least one event");
    const at = now.toISOString();
    const payload = eventsPayload(events);
    const f = finish;
    const finishSet = f
      ? sql`, status = ${f.status}, finished_at = ${at}::timestamptz, lease_expires_at = NULL,
          final_response = ${f.finalResponse ?? null}::text, model = COALESCE(${f.model ?? null}::text, t.model),
          input_tokens = ${f.usage?.inputTokens ?? null}::int, output_tokens = ${f.usage?.outputTokens ?? null}::int,
          total_tokens = ${f.usage?.totalTokens ?? null}::int, processing_time_ms = ${f.processingTimeMs ?? null}::int,
          error = ${f.error ?? null}::text, assistant_message_id = ${f.assistantMessageId ?? null}::uuid`
      : sql``;
    const rows = await queryRows<RawRun & { first_seq: number }>(
      this.db,
      sql`
      WITH locked AS (
        SELECT user_id, id, last_event_seq FROM ${r}
        WHERE user_id = ${userId}::uuid AND id = ${runId}::uuid AND status = 'running'
        FOR UPDATE
      ), ins AS (
        INSERT INTO ${e} (user_id, run_id, seq, type, content, data, created_at)
        SELECT locked.user_id, locked.id, locked.last_event_seq + ev.n, ev.v->>'t', ev.v->>'c',
               NULLIF(ev.v->'d', 'null'::jsonb), ${at}::timestamptz
        FROM locked, jsonb_array_elements(${payload}::jsonb) WITH ORDINALITY AS ev(v, n)
        RETURNING seq
      ), bumped AS (
        UPDATE ${r} AS t SET last_event_seq = locked.last_event_seq + ${events.length}::int, updated_at = ${at}::timestamptz
          ${finishSet}
        FROM locked WHERE t.user_id = locked.user_id AND t.id = locked.id
        RETURNING t.*, locked.last_event_seq + 1 AS first_seq
      )
      SELECT bumped.* FROM bumped`,
    );
    const raw = rows[0];
    if (!raw) return undefined;
    return { run: fromRaw(raw), firstSeq: Number(raw.first_seq), lastSeq: Number(raw.last_event_seq) };
  }

  /**
   * Ends a run with its terminal event (and any last events before it) if it is still
   * running; answers undefined — changing nothing — when it is not.
   */
  finish(
    userId: string,
    runId: string,
    events: NewRunEvent[],
    fields: RunFinish,
    now: Date,
  ): Promise<AppendedEvents | undefined> {
    return this.appendEvents(userId, runId, events, now, fields);
  }

  /**
   * Ends a run as `done` with its answer in one statement: the run row is locked (it
   * must still be running), the answer is appended to the conversation as message
   * `runId` (the conversation's row lock gives it the next seq, as an append does),
   * the last events and `done` take the next event seqs, and the run gets its final
   * fields. One durable commit instead of a transaction of four statements.
   *
   * Answers `ended` (nothing stored) when the run is no longer running, `closed`
   * (nothing stored) when its conversation is closed, else the seqs stored.
   */
  async finishWithAnswer(
    userId: string,
    runId: string,
    conversationId: string,
    answer: string,
    events: NewRunEvent[],
    fields: Omit<RunFinish, "status" | "finalResponse" | "assistantMessageId" | "error">,
    now: Date,
  ): Promise<{ kind: "ended" } | { kind: "closed" } | { kind: "done"; lastSeq: number; messageSeq: number }> {
    const answerMessage = { userId, conversationId, role: "assistant" as const, content: answer, runId, id: runId, now };
    const rows = await queryText<{ running: number; message_seq: number | null; last_event_seq: number | null }>(
      this.db,
      FINISH_WITH_ANSWER,
      [
        ...appendParams(answerMessage),
        eventsPayload(events),
        events.length,
        fields.model ?? null,
        fields.usage?.inputTokens ?? null,
        fields.usage?.outputTokens ?? null,
        fields.usage?.totalTokens ?? null,
        fields.processingTimeMs ?? null,
      ],
    );
    const row = rows[0];
    if (!row || Number(row.running) === 0) return { kind: "ended" };
    if (row.message_seq == null || row.last_event_seq == null) return { kind: "closed" };
    return { kind: "done", lastSeq: Number(row.last_event_seq), messageSeq: Number(row.message_seq) };
  }

  /** Events with `seq > after`, oldest first; one more than `limit` to detect more. */
  async eventsAfter(userId: string, runId: string, after: number, limit: number): Promise<RunEventRow[]> {
    return this.db
      .select()
      .from(e)
      .where(and(eq(e.userId, userId), eq(e.runId, runId), gt(e.seq, after)))
      .orderBy(asc(e.seq))
      .limit(limit + 1);
  }

  /**
   * Marks a running run's cancellation as requested (once); answers the run, or
   * undefined when no such run exists. A finished run is answered unchanged.
   */
  async requestCancel(userId: string, id: string, now: Date): Promise<{ run: RunRow; requested: boolean } | undefined> {
    const updated = await this.db
      .update(r)
      .set({ cancelRequestedAt: now, updatedAt: now })
      .where(and(eq(r.userId, userId), eq(r.id, id), eq(r.status, "running"), sql`${r.cancelRequestedAt} IS NULL`))
      .returning();
    if (updated[0]) return { run: updated[0], requested: true };
    const run = await this.find(userId, id);
    return run ? { run, requested: false } : undefined;
  }

  /**
   * Extends the leases of the given runs this node executes; answers those still
   * running here, with their cancellation flag (a missed cancel notice is caught here).
   */
  async heartbeat(
    nodeId: string,
    keys: { userId: string; id: string }[],
    leaseExpiresAt: Date,
  ): Promise<{ id: string; cancelRequested: boolean }[]> {
    if (keys.length === 0) return [];
    const rows = await queryRows<{ id: string; cancel_requested: boolean }>(
      this.db,
      sql`
      UPDATE ${r} AS t SET lease_expires_at = ${leaseExpiresAt.toISOString()}::timestamptz
      FROM unnest(${`{${keys.map((k) => k.userId).join(",")}}`}::uuid[], ${`{${keys.map((k) => k.id).join(",")}}`}::uuid[]) AS k(user_id, id)
      WHERE t.user_id = k.user_id AND t.id = k.id AND t.node_id = ${nodeId} AND t.status = 'running'
      RETURNING t.id, t.cancel_requested_at IS NOT NULL AS cancel_requested`,
    );
    return rows.map((row) => ({ id: row.id, cancelRequested: row.cancel_requested }));
  }

  /**
   * Ends up to `batch` running runs whose lease expired before `now` (their node
   * stopped heartbeating) as `error`, each with a terminal `error` event, in one
   * statement. The batch is picked in a MATERIALIZED CTE with SKIP LOCKED, so a run
   * its node is writing to right now is left for the next sweep.
   */
  async expireLeasesBatch(
    now: Date,
    batch: number,
    message: string,
  ): Promise<{ userId: string; id: string; conversationId: string; seq: number }[]> {
    const at = now.toISOString();
    const rows = await queryRows<{ user_id: string; id: string; conversation_id: string; seq: number }>(
      this.db,
      sql`
      WITH picked AS MATERIALIZED (
        SELECT user_id, id FROM ${r}
        WHERE status = 'running' AND lease_expires_at < ${at}::timestamptz
        ORDER BY lease_expires_at LIMIT ${batch}
        FOR UPDATE SKIP LOCKED
      ), ended AS (
        UPDATE ${r} AS t SET status = 'error', error = ${message}, last_event_seq = t.last_event_seq + 1,
          finished_at = ${at}::timestamptz, updated_at = ${at}::timestamptz, lease_expires_at = NULL
        FROM picked
        WHERE t.user_id = picked.user_id AND t.id = picked.id AND t.status = 'running'
          AND t.lease_expires_at < ${at}::timestamptz
        RETURNING t.user_id, t.id, t.conversation_id, t.last_event_seq
      ), ins AS (
        INSERT INTO ${e} (user_id, run_id, seq, type, content, data, created_at)
        SELECT user_id, id, last_event_seq, 'error', ${message},
               jsonb_build_object('code', 'INTERRUPTED', 'reason', 'lease expired'), ${at}::timestamptz
        FROM ended
        RETURNING 1
      )
      SELECT user_id, id, conversation_id, last_event_seq AS seq FROM ended`,
    );
    return rows.map((row) => ({ userId: row.user_id, id: row.id, conversationId: row.conversation_id, seq: Number(row.seq) }));
  }
}

/**
 * The independent reader: plain SQL over the stored rows (no Convo code), compared
 * with what clients were told. Every finding is a line in `problems`; none means the
 * run passed.
 */
import type { Ledger } from "./load.js";

export type Query = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

export interface CheckResult {
  problems: string[];
  counts: Record<string, number>;
}

export interface CheckOptions {
  /**
   * PostgreSQL itself crashed during the load (`pg_ctl restart -m immediate`). A run's
   * intermediate events commit without waiting for their WAL flush (docs/runs.md,
   * "Coalescing"), so such a crash may lose the tail of a run that had not ended, after
   * a follower saw it; the run then ends as `error`. Only then, and only in that shape
   * (what the follower saw is the stored events before the terminal one, then seqs past
   * them that are not stored), a follower's view is counted as a lost tail, not a problem.
   */
  databaseCrashed?: boolean;
}

/** What a follower saw, when it is a tail lost in a database crash (see `CheckOptions`). */
function isLostTail(seen: number[], stored: number[], status: string): boolean {
  if (status !== "error" || stored.length === 0) return false;
  const before = stored.slice(0, -1); // the terminal event is the last stored one
  if (seen.length <= before.length || before.some((seq, i) => seen[i] !== seq)) return false;
  const last = before.length > 0 ? before[before.length - 1]! : 0;
  return seen.slice(before.length).every((seq, i, rest) => seq > last && (i === 0 || seq > rest[i - 1]!));
}

export async function check(query: Query, ledger: Ledger, options: CheckOptions = {}): Promise<CheckResult> {
  const problems: string[] = [];
  const counts: Record<string, number> = {};

  // 1. Every acknowledged write: present exactly once, with its seq and content.
  const stored = await query<{
    user_id: string;
    client_message_id: string;
    conversation_id: string;
    seq: number;
    content: string;
  }>("SELECT user_id, client_message_id, conversation_id, seq, content FROM messages WHERE client_message_id IS NOT NULL");
  const byKey = new Map<string, typeof stored>();
  for (const row of stored) {
    const key = `${row.user_id}/${row.client_message_id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  let lost = 0;
  let duplicated = 0;
  for (const ack of ledger.acks) {
    const rows = byKey.get(`${ack.userId}/${ack.clientMessageId}`) ?? [];
    if (rows.length === 0) {
      lost++;
      problems.push(`acknowledged write lost: ${ack.clientMessageId}`);
      continue;
    }
    if (rows.length > 1) {
      duplicated++;
      problems.push(`acknowledged write stored ${rows.length} times: ${ack.clientMessageId}`);
    }
    const row = rows[0]!;
    if (row.content !== ack.content) problems.push(`content differs for ${ack.clientMessageId}`);
    if (row.conversation_id !== ack.conversationId) problems.push(`conversation differs for ${ack.clientMessageId}`);
    if (ack.seq !== -1 && row.seq !== ack.seq) problems.push(`seq differs for ${ack.clientMessageId}: ${row.seq} != ${ack.seq}`);
  }
  counts.acknowledged = ledger.acks.length;
  counts.lost = lost;
  counts.duplicated = duplicated;

  // 2. seq 1..n per conversation, and the counters equal the counts.
  const gaps = await query<{
    id: string;
    n: number;
    max: number;
    distinct_seqs: number;
    message_count: number;
    last_seq: number;
  }>(
    `SELECT c.id, count(m.seq)::int AS n, coalesce(max(m.seq), 0)::int AS max, count(DISTINCT m.seq)::int AS distinct_seqs,
            c.message_count, c.last_seq
       FROM conversations c LEFT JOIN messages m ON m.user_id = c.user_id AND m.conversation_id = c.id
      GROUP BY c.id, c.message_count, c.last_seq`,
  );
  for (const c of gaps) {
    if (c.n !== c.max || c.distinct_seqs !== c.n) problems.push(`conversation ${c.id}: seqs are not 1..${c.n} (max ${c.max})`);
    if (c.message_count !== c.n || c.last_seq !== c.n)
      problems.push(`conversation ${c.id}: counters ${c.message_count}/${c.last_seq} but ${c.n} messages`);
  }
  counts.conversations = gaps.length;
  counts.messages = gaps.reduce((sum, c) => sum + c.n, 0);

  // 3. Runs: terminal, contiguous events, one terminal event last, done = deltas = message.
  const runs = await query<{
    id: string;
    status: string;
    last_event_seq: number;
    assistant_message_id: string | null;
    assistant: string | null;
    error: string | null;
  }>(
    `SELECT r.id, r.status, r.last_event_seq, r.assistant_message_id, m.content AS assistant, r.error
       FROM runs r LEFT JOIN messages m ON m.user_id = r.user_id AND m.id = r.assistant_message_id`,
  );
  const events = await query<{ run_id: string; seq: number; type: string; content: string | null; code: string | null }>(
    "SELECT run_id, seq, type, content, data->>'code' AS code FROM run_events ORDER BY run_id, seq",
  );
  const eventsOf = new Map<string, typeof events>();
  for (const e of events) eventsOf.set(e.run_id, [...(eventsOf.get(e.run_id) ?? []), e]);
  const byStatus: Record<string, number> = {};
  for (const run of runs) {
    byStatus[run.status] = (byStatus[run.status] ?? 0) + 1;
    const list = eventsOf.get(run.id) ?? [];
    if (run.status === "running") problems.push(`run ${run.id} is still running`);
    if (list.some((e, i) => e.seq !== i + 1) || list.length !== run.last_event_seq)
      problems.push(`run ${run.id}: events are not 1..${run.last_event_seq}`);
    const terminals = list.filter((e) => ["done", "error", "cancelled"].includes(e.type));
    if (run.status !== "running" && (terminals.length !== 1 || terminals[0] !== list[list.length - 1]))
      problems.push(`run ${run.id}: ${terminals.length} terminal events, or not last`);
    const deltas = list
      .filter((e) => e.type === "delta")
      .map((e) => e.content ?? "")
      .join("");
    if (run.status === "done" && (run.assistant === null || run.assistant !== deltas))
      problems.push(`run ${run.id}: done but its deltas differ from its assistant message`);
    if (run.status === "error" && run.assistant_message_id !== null)
      problems.push(`run ${run.id}: ended in error but has an assistant message`);
    const code = run.status === "error" ? list[list.length - 1]?.code : undefined;
    if (code) counts[`runs_error_${code}`] = (counts[`runs_error_${code}`] ?? 0) + 1;
  }
  for (const runId of ledger.runs) if (!runs.some((r) => r.id === runId)) problems.push(`acknowledged run ${runId} lost`);
  counts.runs = runs.length;
  counts.runEvents = events.length;
  for (const [status, n] of Object.entries(byStatus)) counts[`runs_${status}`] = n;

  // 4. Followers: each saw every event once, in order, to the end.
  let resumed = 0;
  let lostTails = 0;
  for (const follow of ledger.follows) {
    const stored = (eventsOf.get(follow.runId) ?? []).map((e) => e.seq);
    const status = runs.find((r) => r.id === follow.runId)?.status ?? "";
    if (follow.reconnects > 0) resumed++;
    if (!follow.finished) problems.push(`follower of ${follow.runId} (${follow.via}) never saw the end`);
    else if (JSON.stringify(follow.seen) !== JSON.stringify(stored)) {
      if (options.databaseCrashed && isLostTail(follow.seen, stored, status)) lostTails++;
      else
        problems.push(`follower of ${follow.runId} (${follow.via}) saw ${follow.seen.join(",")} but stored ${stored.join(",")}`);
    }
  }
  counts.followersSawLostTail = lostTails;
  counts.followers = ledger.follows.length;
  counts.resumedFollowers = resumed;

  // 5. No user with two active dialogs.
  const doubled = await query<{ user_id: string }>(
    "SELECT user_id FROM assistant_sessions WHERE status = 'active' GROUP BY user_id HAVING count(*) > 1",
  );
  for (const row of doubled) problems.push(`user ${row.user_id} has two active dialogs`);
  counts.dialogs = Number((await query<{ n: number }>("SELECT count(*)::int AS n FROM assistant_sessions"))[0]?.n ?? 0);

  return { problems, counts };
}

/**
 * The soak's mixed load through a round-robin client. Every answer is recorded with
 * its time (so a 503 can be judged inside or outside a fault window), and every
 * acknowledged write goes into the ledger the checker compares with the database.
 */
import { randomUUID } from "node:crypto";

export interface Ack {
  userId: string;
  clientMessageId: string;
  conversationId: string;
  seq: number;
  content: string;
}

export interface FollowRecord {
  runId: string;
  /** Seqs in the order this follower saw them, across its reconnects. */
  seen: number[];
  reconnects: number;
  via: "sse" | "poll";
  finished: boolean;
}

export class Ledger {
  readonly acks: Ack[] = [];
  readonly runs = new Set<string>();
  readonly follows: FollowRecord[] = [];
  readonly statuses = new Map<number, number>();
  readonly fiveHundreds: string[] = [];
  readonly serviceUnavailable: { at: number; what: string }[] = [];
  networkErrors = 0;
  ops = 0;

  record(status: number, what: string): void {
    this.ops++;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status >= 500 && status !== 503) this.fiveHundreds.push(`${status} ${what}`);
    if (status === 503) this.serviceUnavailable.push({ at: Date.now(), what });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON
type Json = any;

/** Round-robin over the nodes; an operation that meets a dead node tries the next one. */
export class Client {
  #next = 0;
  constructor(
    readonly urls: string[],
    readonly ledger: Ledger,
  ) {}

  pick(): string {
    const url = this.urls[this.#next % this.urls.length] as string;
    this.#next++;
    return url;
  }

  /** One request; network errors and 5xx are retried (on the next node) up to `attempts` times. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    options: { attempts?: number; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; json: Json; headers: Headers } | undefined> {
    const attempts = options.attempts ?? 40;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const url = this.pick();
      try {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(20_000),
        });
        const text = await res.text();
        this.ledger.record(res.status, `${method} ${path.replace(/[0-9a-f-]{36}/g, ":id")}`);
        if (res.status >= 500) {
          await sleep(100 + attempt * 50);
          continue;
        }
        return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
      } catch {
        this.ledger.networkErrors++;
        await sleep(100 + attempt * 50);
      }
    }
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Follows a run's SSE stream to its end, reconnecting on the other node with Last-Event-ID. */
export async function followSse(client: Client, runId: string, record: FollowRecord, stop: () => boolean): Promise<void> {
  let last = 0;
  for (let attempt = 0; attempt < 200 && !stop(); attempt++) {
    const url = client.pick();
    try {
      const res = await fetch(`${url}/v1/runs/${runId}/stream`, {
        headers: last > 0 ? { "last-event-id": String(last) } : {},
        signal: AbortSignal.timeout(60_000),
      });
      client.ledger.record(res.status, "GET /v1/runs/:id/stream");
      if (res.status === 204) {
        record.finished = true;
        return;
      }
      if (res.status !== 200 || !res.body) {
        await res.body?.cancel();
        await sleep(200);
        record.reconnects++;
        continue;
      }
      const decoder = new TextDecoder();
      let buffer = "";
      let terminal = false;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          const type = /^event: (.+)$/m.exec(block)?.[1];
          if (id === undefined || (type === "error" && !/"seq"/.test(block))) continue;
          record.seen.push(Number(id));
          last = Number(id);
          if (type === "done" || type === "cancelled" || (type === "error" && /"seq"/.test(block))) terminal = true;
        }
      }
      if (terminal) {
        record.finished = true;
        return;
      }
    } catch {
      client.ledger.networkErrors++;
    }
    record.reconnects++;
    await sleep(200);
  }
}

/** Follows a run by long-polling `events?after=&wait=`. */
export async function followPoll(client: Client, runId: string, record: FollowRecord, stop: () => boolean): Promise<void> {
  let after = 0;
  for (let attempt = 0; attempt < 500 && !stop(); attempt++) {
    const res = await client.call("GET", `/v1/runs/${runId}/events?after=${after}&wait=5`);
    if (res?.status !== 200) {
      record.reconnects++;
      continue;
    }
    for (const event of res.json.events as { seq: number }[]) record.seen.push(event.seq);
    after = res.json.nextAfter;
    if (res.json.finished) {
      record.finished = true;
      return;
    }
  }
}

/** One simulated user: appends, appends to current, lists, context, state, runs with followers, dialogs. */
export async function userWorker(client: Client, ledger: Ledger, index: number, stop: () => boolean): Promise<void> {
  const created = await client.call("POST", "/v1/users", { externalId: `soak-${index}-${randomUUID()}` });
  if (!created || created.status >= 300) throw new Error(`could not create a user: ${created?.status}`);
  const userId: string = created.json.id;
  const conversation = await client.call("POST", `/v1/users/${userId}/conversations`, {});
  if (!conversation || conversation.status >= 300) throw new Error("could not create a conversation");
  let conversationId: string = conversation.json.id;
  const followers: Promise<void>[] = [];
  let n = 0;
  while (!stop()) {
    n++;
    const op = n % 10;
    if (op <= 3) {
      const clientMessageId = randomUUID();
      const content = `m${n} of ${index} ✓ ${clientMessageId.slice(0, 8)}`;
      const res = await client.call("POST", `/v1/conversations/${conversationId}/messages`, {
        role: "user",
        content,
        clientMessageId,
      });
      if (res && (res.status === 201 || res.status === 200)) {
        ledger.acks.push({ userId, clientMessageId, conversationId, seq: res.json.seq, content });
      }
    } else if (op === 4) {
      const clientMessageId = randomUUID();
      const content = `current ${n} of ${index}`;
      const res = await client.call("POST", `/v1/users/${userId}/messages`, { role: "user", content, clientMessageId });
      if (res && (res.status === 201 || res.status === 200)) {
        ledger.acks.push({ userId, clientMessageId, conversationId: res.json.conversationId, seq: res.json.seq, content });
        conversationId = res.json.conversationId;
      }
    } else if (op === 5) {
      await client.call("GET", `/v1/users/${userId}/conversations?limit=20`);
      await client.call("POST", `/v1/users/${userId}/context`, { historyLimit: 20 });
    } else if (op === 6) {
      const state = await client.call("GET", `/v1/conversations/${conversationId}/state`);
      if (state?.status === 200) {
        await client.call(
          "PATCH",
          `/v1/conversations/${conversationId}/state`,
          { step: n },
          { headers: { "if-match": `"${state.json.version}"` } },
        );
      }
    } else if (op === 7) {
      const clientMessageId = randomUUID();
      const res = await client.call("POST", `/v1/conversations/${conversationId}/runs`, {
        content: `run ${n} of ${index}: tell me something`,
        clientMessageId,
      });
      if (res && (res.status === 202 || res.status === 200)) {
        const runId: string = res.json.runId;
        ledger.runs.add(runId);
        ledger.acks.push({
          userId,
          clientMessageId,
          conversationId,
          seq: -1, // the run's user message: its seq is checked through the run
          content: `run ${n} of ${index}: tell me something`,
        });
        const record: FollowRecord = { runId, seen: [], reconnects: 0, via: n % 20 === 7 ? "poll" : "sse", finished: false };
        ledger.follows.push(record);
        // The runner waits for its run to end (one run at a time per conversation).
        const follow =
          record.via === "sse" ? followSse(client, runId, record, () => false) : followPoll(client, runId, record, () => false);
        if (n % 3 === 0) await follow;
        else followers.push(follow);
      }
    } else if (op === 8) {
      const dialog = await client.call("POST", `/v1/users/${userId}/assistant-sessions`, {});
      if (dialog?.status === 201 || dialog?.status === 200) {
        await client.call("PATCH", `/v1/assistant-sessions/${dialog.json.id}`, { goal: `goal ${n}`, currentStep: 1 });
        if (n % 2 === 0) await client.call("POST", `/v1/assistant-sessions/${dialog.json.id}/close`, { status: "completed" });
      }
    } else {
      await client.call("GET", `/v1/conversations/${conversationId}/messages?limit=50`);
    }
  }
  await Promise.all(followers);
}

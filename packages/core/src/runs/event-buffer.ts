/**
 * The executor's outbox: events wait here and are written in batches, one write at a
 * time, in the order they happened. Text and reasoning arrive as many small pieces;
 * consecutive pieces of one kind are merged into one event (coalescing), written at
 * most `flushIntervalMs` after the first piece arrived or as soon as `flushChars`
 * characters wait. A long answer is therefore tens of rows, not thousands.
 *
 * The concatenation of the written `delta` contents is exactly `text`, the final
 * answer: text is cleaned (NUL, lone surrogates) when it enters, and a high surrogate
 * at the end of a piece waits for its partner instead of being written alone.
 */
import type { NewRunEvent } from "./types.js";

export interface EventBufferOptions {
  flushIntervalMs: number;
  flushChars: number;
  /**
   * Stores a batch of events; answers false when the run no longer takes events
   * (it was ended elsewhere: cancelled, expired).
   */
  write: (events: NewRunEvent[]) => Promise<boolean>;
  /** Called once when a write fails or is refused; the buffer stops writing. */
  onStop: (reason: { refused: true } | { refused: false; error: unknown }) => void;
}

interface Pending {
  type: NewRunEvent["type"];
  content: string | null;
  data: Record<string, unknown> | null;
  /** Text pieces may still be added. */
  open: boolean;
}

const REPLACEMENT = "\uFFFD";
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL cannot be stored by PostgreSQL
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Makes text storable: NUL and lone surrogates become U+FFFD. */
export const storableText = (text: string) => text.replace(NUL, REPLACEMENT).replace(LONE_SURROGATE, REPLACEMENT);

const endsWithHighSurrogate = (s: string) => {
  const last = s.charCodeAt(s.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
};

export class EventBuffer {
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #stopped = false;
  #text = "";
  /** A delta has been taken for writing (the first one is not held back). */
  #deltaTaken = false;
  /** When the oldest piece still pending arrived (performance.now()); it waits at most `flushIntervalMs`. */
  #oldestAt: number | undefined;

  constructor(private readonly options: EventBufferOptions) {}

  /** The answer so far: every delta written or taken, concatenated. */
  get text(): string {
    return this.#text;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Adds a piece of the answer. */
  delta(piece: string): void {
    this.#piece("delta", piece, null);
  }

  /** Adds a piece of the model's reasoning (stored as `thinking`). */
  reasoning(piece: string): void {
    this.#piece("thinking", piece, { phase: "reasoning" });
  }

  /** Ends the current text or reasoning event, so the next piece starts a new one. */
  close(): void {
    const last = this.#pending[this.#pending.length - 1];
    if (last) last.open = false;
  }

  /** Adds a whole event (a tool call) and writes soon. */
  event(event: NewRunEvent): void {
    this.close();
    this.#pending.push({ type: event.type, content: event.content ?? null, data: event.data ?? null, open: false });
    this.#oldestAt ??= performance.now();
    this.#schedule(0);
  }

  /** Waits for the write in flight, then answers everything still pending (written by the caller). */
  async takeAll(): Promise<NewRunEvent[]> {
    this.#clearTimer();
    while (this.#writing) await this.#writing;
    this.#clearTimer();
    const rest = this.#take(true);
    this.#stopped = true;
    return rest;
  }

  /** Stops writing: timers are cleared and nothing more is stored by the buffer. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimer();
    while (this.#writing) await this.#writing;
  }

  #piece(type: "delta" | "thinking", piece: string, data: Record<string, unknown> | null): void {
    if (piece.length === 0 || this.#stopped) return;
    this.#oldestAt ??= performance.now();
    const clean = piece.replace(NUL, REPLACEMENT);
    const last = this.#pending[this.#pending.length - 1];
    let current: Pending;
    if (last?.open && last.type === type) {
      last.content = (last.content ?? "") + clean;
      current = last;
    } else {
      this.close();
      current = { type, content: clean, data, open: true };
      this.#pending.push(current);
    }
    // The first text of an answer goes out at once: a reader waits for it, and
    // coalescing matters only for the many pieces after it.
    const first = type === "delta" && !this.#deltaTaken;
    this.#schedule(first || (current.content?.length ?? 0) >= this.options.flushChars ? 0 : this.options.flushIntervalMs);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer && delayMs > 0) return; // a flush is already due no later than this
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delayMs);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Takes the pending events for writing; `final` also takes a held-back surrogate. */
  #take(final: boolean): NewRunEvent[] {
    const taken: NewRunEvent[] = [];
    const keep: Pending[] = [];
    for (const [i, p] of this.#pending.entries()) {
      let content = p.content;
      const isLast = i === this.#pending.length - 1;
      if (content !== null && p.open && isLast && !final && endsWithHighSurrogate(content)) {
        // Its low surrogate is in the next piece: keep the half pair back.
        keep.push({ ...p, content: content.slice(-1) });
        content = content.slice(0, -1);
        if (content.length === 0) continue;
      }
      if (content !== null && (p.type === "delta" || p.type === "thinking")) content = storableText(content);
      if (p.type === "delta" && content) {
        this.#text += content;
        this.#deltaTaken = true;
      }
      taken.push({ type: p.type, content, data: p.data });
    }
    this.#pending = keep;
    this.#oldestAt = keep.length > 0 ? performance.now() : undefined;
    return taken;
  }

  async #flush(): Promise<void> {
    if (this.#writing || this.#stopped) {
      // The write in flight reschedules when it finishes.
      return;
    }
    const batch = this.#take(false);
    if (batch.length === 0) return;
    const writing = (async () => {
      try {
        const stored = await this.options.write(batch);
        if (!stored) this.#halt({ refused: true });
      } catch (error) {
        this.#halt({ refused: false, error });
      }
    })();
    this.#writing = writing;
    await writing;
    this.#writing = undefined;
    // What arrived meanwhile goes out with the next write, counted from when it arrived
    // (not from now: a piece that came early in a slow write has waited already).
    if (this.#pending.length > 0 && !this.#stopped) {
      const waiting = this.#pending.reduce((n, p) => n + (p.content?.length ?? 0), 0);
      const hasWhole = this.#pending.some((p) => !p.open);
      const left = this.options.flushIntervalMs - (performance.now() - (this.#oldestAt ?? performance.now()));
      this.#schedule(waiting >= this.options.flushChars || hasWhole ? 0 : Math.max(0, Math.ceil(left)));
    }
  }

  #halt(reason: { refused: true } | { refused: false; error: unknown }): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clearTimer();
    this.options.onStop(reason);
  }
}

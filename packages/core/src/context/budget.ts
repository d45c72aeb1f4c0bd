/**
 * Fitting a context into a token budget. The parts, in the order they are given room:
 * the user's profile, the conversation's rolling summary, the newest messages (newest
 * first; the first that does not fit stops the walk, so the history stays contiguous),
 * then the previous conversations (newest first, each by its line with its summary).
 * Every candidate part is listed in the receipt with its token count and whether it
 * went in; the included counts add up to `used`, which never exceeds the budget.
 */
import type { TokenCounter } from "./tokens.js";

export type ContextPartKind = "profile" | "rollingSummary" | "message" | "session";

export interface ContextPartReceipt {
  kind: ContextPartKind;
  /** Message, conversation (session) or summary-message id; absent for the profile. */
  id?: string;
  /** The message's seq (for messages and the rolling summary). */
  seq?: number;
  tokens: number;
  included: boolean;
}

/** What a budgeted context load put in and left out. */
export interface ContextBudgetReceipt {
  budget: number;
  /** Tokens of the included parts (the sum of their `tokens`). */
  used: number;
  tokenizer: { encoding: string; exact: boolean; model: string | null };
  parts: ContextPartReceipt[];
  /** Candidates left out for lack of room. */
  omitted: { profile: boolean; rollingSummary: boolean; messages: number; sessions: number };
  /** True when this load extended the rolling summary (older turns were summarised). */
  rolled: boolean;
}

export interface BudgetCandidate<T> {
  item: T;
  text: string;
  id?: string;
  seq?: number;
}

export interface FitInput<M, S> {
  budget: number;
  counter: TokenCounter;
  profile?: string;
  rollingSummary?: BudgetCandidate<unknown>;
  /** Oldest first. */
  messages: BudgetCandidate<M>[];
  /** Newest first. */
  sessions: BudgetCandidate<S>[];
}

export interface FitResult<M, S> {
  profile: boolean;
  rollingSummary: boolean;
  /** Oldest first. */
  messages: M[];
  sessions: S[];
  /** Tokens of each candidate message, oldest first (for the rolling-summary cut). */
  messageTokens: number[];
  receipt: Omit<ContextBudgetReceipt, "rolled">;
}

/**
 * Fits the candidates into the budget (see the module comment for the order).
 *
 * @example
 * const counter = await tokenCounter("openai:gpt-4o-mini");
 * const { messages, receipt } = fitToBudget({ budget: 500, counter, messages: candidates, sessions: [] });
 */
export function fitToBudget<M, S>(input: FitInput<M, S>): FitResult<M, S> {
  const { budget, counter } = input;
  let used = 0;
  const take = (tokens: number) => {
    if (used + tokens > budget) return false;
    used += tokens;
    return true;
  };
  const parts: ContextPartReceipt[] = [];

  let profile = false;
  if (input.profile !== undefined) {
    const tokens = counter.count(input.profile);
    profile = take(tokens);
    parts.push({ kind: "profile", tokens, included: profile });
  }
  let rollingSummary = false;
  if (input.rollingSummary) {
    const tokens = counter.count(input.rollingSummary.text);
    rollingSummary = take(tokens);
    parts.push({
      kind: "rollingSummary",
      id: input.rollingSummary.id,
      seq: input.rollingSummary.seq,
      tokens,
      included: rollingSummary,
    });
  }
  const messageTokens = input.messages.map((m) => counter.count(m.text));
  const keptMessages: M[] = [];
  const messageParts: ContextPartReceipt[] = [];
  let open = true;
  for (let i = input.messages.length - 1; i >= 0; i--) {
    const m = input.messages[i] as BudgetCandidate<M>;
    const tokens = messageTokens[i] as number;
    const included = open && take(tokens);
    if (!included) open = false;
    if (included) keptMessages.unshift(m.item);
    messageParts.unshift({ kind: "message", id: m.id, seq: m.seq, tokens, included });
  }
  parts.push(...messageParts);
  const sessions: S[] = [];
  for (const s of input.sessions) {
    const tokens = counter.count(s.text);
    const included = take(tokens);
    if (included) sessions.push(s.item);
    parts.push({ kind: "session", id: s.id, tokens, included });
  }
  return {
    profile,
    rollingSummary,
    messages: keptMessages,
    sessions,
    messageTokens,
    receipt: {
      budget,
      used,
      tokenizer: { encoding: counter.encoding, exact: counter.exact, model: counter.model },
      parts,
      omitted: {
        profile: input.profile !== undefined && !profile,
        rollingSummary: input.rollingSummary !== undefined && !rollingSummary,
        messages: input.messages.length - keptMessages.length,
        sessions: input.sessions.length - sessions.length,
      },
    },
  };
}

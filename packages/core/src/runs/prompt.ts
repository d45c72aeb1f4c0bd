/**
 * The prompt of a run, built from the context loader: the system message (the
 * assistant's instructions, the user's profile, a summary of the user's previous
 * conversations) and this conversation's recent messages, oldest first.
 */
import type { ModelMessage } from "ai";
import { type Context, profileText, sessionLine } from "../context/index.js";

export interface RunPrompt {
  system: string;
  messages: ModelMessage[];
}

/** Builds the prompt. Stored `tool` messages are left out: without their call ids no provider accepts them. */
export function buildPrompt(instructions: string, context: Context, options: { upToMessageId?: string } = {}): RunPrompt {
  const system = [instructions];
  const profile = profileText(context.userProfile);
  if (profile) system.push(`What is known about the user: ${profile}`);
  if (context.sessionHistory.length > 0) {
    const lines = context.sessionHistory.map(sessionLine);
    system.push(`The user's previous conversations (most recent first):\n${lines.join("\n")}`);
  }
  if (context.rollingSummary) {
    const { toSeq, content } = context.rollingSummary;
    system.push(`Earlier in this conversation (a summary of turns 1–${toSeq}):\n${content}`);
  }
  const messages: ModelMessage[] = [];
  let history = context.conversationHistory;
  // A regeneration answers an earlier message again: what came after it (the previous answer) is not shown.
  const cut = options.upToMessageId === undefined ? -1 : history.findIndex((m) => m.id === options.upToMessageId);
  if (cut >= 0) history = history.slice(0, cut + 1);
  for (const m of history) {
    if (m.role === "user") messages.push({ role: "user", content: m.content });
    else if (m.role === "assistant") messages.push({ role: "assistant", content: m.content });
    else if (m.role === "system") messages.push({ role: "system", content: m.content });
  }
  return { system: system.join("\n\n"), messages };
}

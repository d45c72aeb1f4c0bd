/**
 * The prompt of a run, built from the context loader: the system message (the
 * assistant's instructions, the user's profile, a summary of the user's previous
 * conversations) and this conversation's recent messages, oldest first.
 */
import type { ModelMessage } from "ai";
import type { Context } from "../context/index.js";

export interface RunPrompt {
  system: string;
  messages: ModelMessage[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Builds the prompt. Stored `tool` messages are left out: without their call ids no provider accepts them. */
export function buildPrompt(instructions: string, context: Context, options: { upToMessageId?: string } = {}): RunPrompt {
  const system = [instructions];
  if (Object.keys(context.userProfile).length > 0) {
    system.push(`What is known about the user: ${JSON.stringify(context.userProfile)}`);
  }
  if (context.sessionHistory.length > 0) {
    const lines = context.sessionHistory.map((s) => {
      const title = s.title ? `«${s.title}»` : "(untitled)";
      const summary = s.summary ? `: ${s.summary}` : "";
      return `- ${title}, ${day(s.startedAt)}–${day(s.endedAt)}, ${s.messageCount} messages, ${s.status}${summary}`;
    });
    system.push(`The user's previous conversations (most recent first):\n${lines.join("\n")}`);
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

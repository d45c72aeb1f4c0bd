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
export function buildPrompt(instructions: string, context: Context): RunPrompt {
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
  for (const m of context.conversationHistory) {
    if (m.role === "user") messages.push({ role: "user", content: m.content });
    else if (m.role === "assistant") messages.push({ role: "assistant", content: m.content });
    else if (m.role === "system") messages.push({ role: "system", content: m.content });
  }
  return { system: system.join("\n\n"), messages };
}

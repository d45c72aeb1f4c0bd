/**
 * The parts of an assistant message: text (Markdown), reasoning (collapsed by
 * default), and tool calls as cards with name, arguments, result, success and the
 * duration the server measured (read from the run's stored `tool_call` events: the
 * message id is the run id).
 */
import type { UIMessage } from "ai";
import { useEffect, useState } from "react";
import { convo } from "../api";
import { ToolIcon } from "../icons";
import { Markdown } from "./Markdown";

type Part = UIMessage["parts"][number];

interface ToolPart {
  toolCallId: string;
  toolName: string;
  state: string;
  input?: unknown;
  output?: unknown;
  errorText?: string;
}

function toolOf(part: Part): ToolPart | undefined {
  if (part.type === "dynamic-tool") return part as ToolPart;
  if (part.type.startsWith("tool-")) return { ...(part as Omit<ToolPart, "toolName">), toolName: part.type.slice(5) };
  return undefined;
}

const durations = new Map<string, Promise<Map<string, number>>>();

/** Tool durations of a finished run, fetched once per run. */
function useToolDurations(runId: string, enabled: boolean): Map<string, number> | undefined {
  const [value, setValue] = useState<Map<string, number>>();
  useEffect(() => {
    if (!enabled) return;
    let promise = durations.get(runId);
    if (!promise) {
      promise = convo.runs
        .events(runId, { limit: 1000 })
        .then(
          (page) =>
            new Map(
              page.events
                .filter((e) => e.type === "tool_call")
                .map((e) => [String(e.toolCallId ?? ""), Number(e.durationMs ?? 0)]),
            ),
        );
      // A failed read is retried on the next render that needs it.
      promise.catch(() => durations.delete(runId));
      durations.set(runId, promise);
    }
    let live = true;
    promise.then(
      (map) => live && setValue(map),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [runId, enabled]);
  return value;
}

export function MessageParts({ message, streaming }: { message: UIMessage; streaming: boolean }) {
  const hasTools = message.parts.some((p) => toolOf(p));
  const times = useToolDurations(message.id, hasTools && !streaming);
  return (
    <>
      {message.parts.map((part, index) => {
        const key = `${message.id}-${index}`;
        if (part.type === "text") return <Markdown key={key} text={part.text} />;
        if (part.type === "reasoning") {
          return (
            <details key={key} className="reasoning">
              <summary>{part.state === "streaming" ? "Thinking…" : "Reasoning"}</summary>
              <p>{part.text}</p>
            </details>
          );
        }
        const tool = toolOf(part);
        if (tool) return <ToolCard key={key} tool={tool} durationMs={times?.get(tool.toolCallId)} />;
        return null;
      })}
    </>
  );
}

const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

function ToolCard({ tool, durationMs }: { tool: ToolPart; durationMs?: number }) {
  const done = tool.state === "output-available" || tool.state === "output-error";
  const ok = tool.state === "output-available";
  const status = !done ? "running" : ok ? "succeeded" : "failed";
  return (
    <section className={`tool-card ${status}`} aria-label={`Tool call ${tool.toolName}: ${status}`} data-tool={tool.toolName}>
      <header>
        <span className="tool-name">
          <ToolIcon /> {tool.toolName}
        </span>
        <span className={`badge ${ok ? "ok" : done ? "bad" : ""}`}>{status}</span>
        {durationMs !== undefined && <span className="muted small tool-duration">{durationMs} ms</span>}
      </header>
      <details>
        <summary>Arguments</summary>
        <pre>{show(tool.input ?? {})}</pre>
      </details>
      {done && (
        <details open>
          <summary>{ok ? "Result" : "Error"}</summary>
          <pre>{ok ? show(tool.output) : tool.errorText}</pre>
        </details>
      )}
    </section>
  );
}

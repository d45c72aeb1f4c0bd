/**
 * The summary written without a model: the user's goal (their first message) and the
 * key lines (the latest things the user said, and the assistant's last answer), at most
 * 500 characters. Extending a summary keeps its goal and adds the new key lines, the
 * oldest key lines giving way when the text would grow too long.
 */
import { heuristicTitle, stripMarkup } from "../conversations/index.js";
import { MAX_SUMMARY_LENGTH, type SummaryInput } from "./types.js";

const GOAL = "Goal: ";
const KEY = "Key points: ";
const SEPARATOR = "; ";

const line = (text: string, max: number) => heuristicTitle(text, max) ?? "";

function parse(previous: string | null): { goal: string | undefined; keys: string[] } {
  if (!previous) return { goal: undefined, keys: [] };
  const [first = "", ...rest] = previous.split("\n");
  const goal = first.startsWith(GOAL) ? first.slice(GOAL.length) : undefined;
  const keyLine = (goal === undefined ? [first, ...rest] : rest).join(" ");
  const keys = keyLine.startsWith(KEY) ? keyLine.slice(KEY.length).split(SEPARATOR) : keyLine ? [keyLine] : [];
  return { goal, keys: keys.filter(Boolean) };
}

/**
 * An extractive summary of the turns, extending `previous`.
 *
 * @example
 * extractiveSummary({ previous: null, messages: [{ role: "user", content: "Сделай стикер с котом" }] });
 * // "Goal: Сделай стикер с котом"
 */
export function extractiveSummary(input: SummaryInput): string {
  const { goal: previousGoal, keys } = parse(input.previous);
  const said = input.messages
    .map((m) => ({ role: m.role, text: stripMarkup(m.content) }))
    .filter((m) => m.text.length > 0 && (m.role === "user" || m.role === "assistant"));
  const firstUser = said.find((m) => m.role === "user");
  const goal = previousGoal ?? (firstUser ? line(firstUser.text, 160) : input.title ? line(input.title, 160) : undefined);
  const fresh = said.filter((m) => m !== firstUser || previousGoal !== undefined);
  const lastUser = fresh.filter((m) => m.role === "user").slice(-3);
  const lastAssistant = fresh.filter((m) => m.role === "assistant").slice(-1);
  const newKeys = [...lastUser, ...lastAssistant]
    .sort((a, b) => fresh.indexOf(a) - fresh.indexOf(b))
    .map((m) => line(m.text, 120));
  const allKeys = [...keys, ...newKeys].filter((k, i, a) => k && a.indexOf(k) === i);
  const head = goal ? `${GOAL}${goal}` : "";
  const render = (k: string[]) => [head, k.length ? `${KEY}${k.join(SEPARATOR)}` : ""].filter(Boolean).join("\n");
  while (allKeys.length > 0 && [...render(allKeys)].length > MAX_SUMMARY_LENGTH) allKeys.shift();
  const text = render(allKeys);
  return [...text].length > MAX_SUMMARY_LENGTH ? (heuristicTitle(text, MAX_SUMMARY_LENGTH) ?? "") : text;
}

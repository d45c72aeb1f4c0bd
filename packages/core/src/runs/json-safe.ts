/**
 * Tool arguments and results are stored in jsonb, which refuses NUL and lone
 * surrogates and knows no bigint, undefined or cycles. This turns any value into
 * storable JSON instead of letting one odd tool result fail the whole run.
 */
import { storableText } from "./event-buffer.js";

function clean(value: unknown, depth: number): unknown {
  if (typeof value === "string") return storableText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 64) return "[too deep]";
  if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[storableText(key)] = clean(item, depth + 1);
  return out;
}

/** A JSON copy of `value` that PostgreSQL's jsonb accepts. */
export function jsonSafe(value: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  } catch {
    return storableText(String(value));
  }
  if (text === undefined) return null;
  return clean(JSON.parse(text), 0);
}

/** A readable message for any thrown value, safe to store. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return storableText(error.message || error.name);
  if (typeof error === "string") return storableText(error);
  return storableText(String(jsonSafe(error)));
}

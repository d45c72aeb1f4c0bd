/**
 * Input rules of the library, built on the limits of the wire contract
 * (`@convo/protocol`'s `LIMITS` and `textProblem`), so the HTTP API and the library
 * cannot disagree. PostgreSQL refuses `\u0000` in text and jsonb, and a lone UTF-16
 * surrogate cannot be encoded as UTF-8, so both are refused here with the field
 * named, before anything reaches the database.
 */
import { codePointLength, ENV_PATTERN, LIMITS, textProblem } from "@convo/protocol";
import { ValidationError } from "./errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Longest title, in Unicode code points (the unit of PostgreSQL's `char_length`). */
export const MAX_TITLE_LENGTH = LIMITS.titleLength;
/** Longest message text accepted (code units); bodies are limited separately. */
export const MAX_CONTENT_LENGTH = LIMITS.contentLength;

export { textProblem };

/**
 * Throws a ValidationError naming `field` when `value` is not storable text (or is
 * empty, or longer than `max`); answers it typed as a string.
 *
 * @example
 * const externalId = assertText("externalId", input.externalId, { max: 200 });
 */
export function assertText(field: string, value: unknown, options: { max?: number; allowEmpty?: boolean } = {}): string {
  if (typeof value !== "string") {
    throw new ValidationError(`${field} must be a string`, { field });
  }
  const problem = textProblem(value);
  if (problem) throw new ValidationError(`${field} ${problem}`, { field });
  if (!options.allowEmpty && value.length === 0) {
    throw new ValidationError(`${field} must not be empty`, { field });
  }
  const max = options.max ?? MAX_CONTENT_LENGTH;
  if (value.length > max) {
    throw new ValidationError(`${field} is longer than ${max} characters`, { field, max });
  }
  return value;
}

/**
 * Checks a title: storable text of at most 30 code points, not blank; throws a
 * ValidationError otherwise.
 *
 * @example
 * const title = assertTitle(body.title); // "Подарок маме" passes; 31 code points throw
 */
export function assertTitle(value: unknown, field = "title"): string {
  const title = assertText(field, value);
  const length = codePointLength(title);
  if (length > MAX_TITLE_LENGTH) {
    throw new ValidationError(`${field} is ${length} characters long; the limit is ${MAX_TITLE_LENGTH}`, {
      field,
      max: MAX_TITLE_LENGTH,
      length,
    });
  }
  if (title.trim().length === 0) throw new ValidationError(`${field} must not be blank`, { field });
  return title;
}

/**
 * Throws a ValidationError unless `value` is a UUID; answers it lower-cased.
 *
 * @example
 * const uid = assertUuid("userId", request.params.userId);
 */
export function assertUuid(field: string, value: unknown): string {
  if (typeof value !== "string" || !UUID.test(value)) {
    throw new ValidationError(`${field} must be a UUID`, { field });
  }
  return value.toLowerCase();
}

/**
 * True when `value` is a UUID string; the non-throwing `assertUuid`.
 *
 * @example
 * if (!isUuid(payload.sub)) throw new Error("token subject is not a user id");
 */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/**
 * Checks that a JSON value holds only storable strings (keys included) and is a
 * plain JSON tree. Answers the value unchanged.
 *
 * @example
 * const profile = assertJson("profile", { language: "ru", pets: ["кот"] });
 */
export function assertJson<T>(field: string, value: T, depth = 0): T {
  if (depth > 64) throw new ValidationError(`${field} is nested too deeply`, { field });
  if (value === null || typeof value === "number" || typeof value === "boolean") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new ValidationError(`${field} holds a non-finite number`, { field });
    }
    return value;
  }
  if (typeof value === "string") {
    const problem = textProblem(value);
    if (problem) throw new ValidationError(`${field} ${problem}`, { field });
    return value;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) assertJson(`${field}[${i}]`, item, depth + 1);
    return value;
  }
  if (typeof value === "object") {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const problem = textProblem(key);
      if (problem) throw new ValidationError(`${field} has a key that ${problem}`, { field });
      assertJson(`${field}.${key}`, item, depth + 1);
    }
    return value;
  }
  throw new ValidationError(`${field} must be JSON`, { field });
}

/** Checks an optional positive integer within bounds, answering the default when absent. */
export function intInRange(field: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}`, {
      field,
      min,
      max,
    });
  }
  return value;
}

/** Checks an `env` name: short, printable, no surprises in logs or analytics. */
export function assertEnv(value: unknown, field = "env"): string {
  if (typeof value !== "string" || !ENV_PATTERN.test(value)) {
    throw new ValidationError(`${field} must be 1–32 letters, digits, '_', '.' or '-'`, {
      field,
    });
  }
  return value;
}

/** Domain records hold Dates; the API speaks ISO 8601 strings. */
type Jsonified<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

/** Copies `value` with every Date turned into its ISO string. */
export function jsonify<T>(value: T): Jsonified<T> {
  if (value instanceof Date) return value.toISOString() as Jsonified<T>;
  if (Array.isArray(value)) return value.map(jsonify) as Jsonified<T>;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonify(v);
    return out as Jsonified<T>;
  }
  return value as Jsonified<T>;
}

/** Domain records hold Dates; the API speaks ISO 8601 strings. */
type Jsonified<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

/**
 * `value` typed as the JSON it is sent as: every Date becomes its ISO 8601 string when
 * the response is serialised (`JSON.stringify` calls `Date.prototype.toJSON`), so
 * nothing is copied here — a copy per response was a measurable share of the server's
 * CPU (see serializer.ts). Use it only on values that go to `JSON.stringify`.
 *
 * @example
 * return reply.status(201).send(jsonify(conversation)); // createdAt: Date → "2026-12-04T10:00:00.000Z" on the wire
 */
export function jsonify<T>(value: T): Jsonified<T> {
  return value as unknown as Jsonified<T>;
}

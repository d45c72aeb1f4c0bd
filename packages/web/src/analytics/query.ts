/** The analytics page's filter and the API query it stands for. */

export interface Filter {
  /** An env (`prod`, `test`…); empty = every env. */
  env: string;
  /** yyyy-mm-dd, inclusive, UTC days; empty = open-ended. */
  from: string;
  to: string;
}

/**
 * The query of `/v1/analytics/assistant/*` for a filter. The API's `to` is exclusive,
 * so the chosen last day is included by asking for dialogs before the next midnight.
 *
 * @example
 * analyticsQuery({ env: "prod", from: "2026-11-01", to: "2026-11-30" })
 * // { env: "prod", from: "2026-11-01T00:00:00.000Z", to: "2026-12-01T00:00:00.000Z" }
 */
export function analyticsQuery(filter: Filter): { env?: string; from?: string; to?: string } {
  const query: { env?: string; from?: string; to?: string } = {};
  if (filter.env) query.env = filter.env;
  if (filter.from) query.from = `${filter.from}T00:00:00.000Z`;
  if (filter.to) {
    const next = new Date(`${filter.to}T00:00:00.000Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    query.to = next.toISOString();
  }
  return query;
}

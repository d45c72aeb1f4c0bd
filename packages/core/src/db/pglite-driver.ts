/**
 * Drizzle's PGlite driver passes `parsers` with every query (to get timestamps as
 * text), and PGlite then copies its whole parser table — over 300 entries — for each
 * statement: 0.15–0.4 ms of CPU per statement, most of the gap between Convo and raw
 * PGlite in the benchmarks. This wrapper drops those per-query parsers, so PGlite
 * answers timestamps as Dates, exactly as node-postgres does; Drizzle's timestamp
 * columns (mode "date") accept a Date, and Convo's raw-SQL mappers accept both.
 */
import type { PGlite, QueryOptions } from "@electric-sql/pglite";

type Query = (query: string, params?: unknown[], options?: QueryOptions) => Promise<unknown>;

const withoutParsers = (options?: QueryOptions): QueryOptions | undefined => {
  if (!options?.parsers) return options;
  const { parsers: _dropped, ...rest } = options;
  return rest;
};

function wrapQuery(target: { query: Query }): Query {
  return (query, params, options) => target.query(query, params, withoutParsers(options));
}

/** The PGlite client as Drizzle should see it (the original stays untouched). */
export function driverClient(client: PGlite): PGlite {
  return new Proxy(client, {
    get(target, property) {
      if (property === "query") return wrapQuery(target as unknown as { query: Query });
      if (property === "transaction") {
        return (fn: (tx: unknown) => Promise<unknown>) =>
          target.transaction((tx) =>
            fn(
              new Proxy(tx, {
                get(inner, name) {
                  if (name === "query") return wrapQuery(inner as unknown as { query: Query });
                  const value = Reflect.get(inner, name, inner);
                  return typeof value === "function" ? value.bind(inner) : value;
                },
              }),
            ),
          );
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The PGlite client as Drizzle and `queryText` see it.
 *
 * Drizzle's PGlite driver passes `parsers` with every query (to get timestamps as
 * text), and PGlite then copies its whole parser table — over 300 entries — for each
 * statement: 0.15–0.4 ms of CPU per statement, most of the gap between Convo and raw
 * PGlite in the benchmarks. This wrapper drops those per-query parsers, so PGlite
 * answers timestamps as Dates, exactly as node-postgres does; Drizzle's timestamp
 * columns (mode "date") accept a Date, and Convo's raw-SQL mappers accept both.
 *
 * It also adds `queryPrepared` for the hot statements (see `queryText`): PGlite's
 * `query` parses and plans every statement again and crosses into WebAssembly six
 * times (Parse, Describe, Bind, Describe, Execute, Sync, each its own call). A prepared
 * statement is parsed once per PGlite instance; each call is then one crossing with
 * Bind, Describe, Execute and Sync together — measured 2.2× faster for an append.
 */
import { type PGlite, parse, protocol, type QueryOptions } from "@electric-sql/pglite";

type Query = (query: string, params?: unknown[], options?: QueryOptions) => Promise<unknown>;

/** Runs a constant statement as a prepared statement; answers its rows. */
export type QueryPrepared = (text: string, params: unknown[]) => Promise<{ rows: unknown[] }>;

const withoutParsers = (options?: QueryOptions): QueryOptions | undefined => {
  if (!options?.parsers) return options;
  const { parsers: _dropped, ...rest } = options;
  return rest;
};

function wrapQuery(target: { query: Query }): Query {
  return (query, params, options) => target.query(query, params, withoutParsers(options));
}

const serialize = protocol.serialize;

/** A statement prepared on one PGlite instance: its name and parameter types. */
interface Prepared {
  name: string;
  types: number[];
}

/**
 * The statements prepared on each PGlite instance, by schema and text. Several Convo
 * stores (schemas) may share one instance, and a statement resolves its tables on the
 * `search_path` it was prepared under, so the schema is part of the key.
 */
const preparedByClient = new WeakMap<PGlite, Map<string, Prepared>>();

/** More statements than this on one instance are not prepared (texts are constants; this guards a mistake). */
const MAX_PREPARED = 2000;

/**
 * PGlite's mutual exclusion, which its own `query` and `transaction` use: a statement
 * outside a transaction waits for any transaction to end, then for the connection.
 * `_runExclusiveTransaction` is declared on PGlite's public base class; pinned 0.5.16.
 */
interface Exclusive {
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
}

function preparedRunner(client: PGlite, schema: string): (inTransaction: boolean) => QueryPrepared {
  let statements = preparedByClient.get(client);
  if (!statements) {
    statements = new Map();
    preparedByClient.set(client, statements);
  }
  const all = statements;
  const exclusive = client as unknown as Exclusive;
  const run = async (text: string, params: unknown[]): Promise<{ rows: unknown[] }> => {
    const key = `${schema}\u0000${text}`;
    let statement = all.get(key);
    if (!statement) {
      if (all.size >= MAX_PREPARED) return (await client.query(text, params)) as { rows: unknown[] };
      const name = `convo_${all.size}`;
      // Sync ends each batch, so after an error the connection is ready again.
      const described = await client.execProtocol(
        Buffer.concat([serialize.parse({ name, text }), serialize.describe({ type: "S", name }), serialize.sync()]),
        { syncToFs: false },
      );
      statement = { name, types: parse.parseDescribeStatementResults(described.messages) };
      all.set(key, statement);
    }
    const { types } = statement;
    // Serialised as PGlite's own `query` does: by the parameter's type, else as text.
    const values = params.map((value, i) => {
      if (value == null) return null;
      const serializer = client.serializers[types[i] as number];
      return serializer ? serializer(value) : String(value);
    });
    const result = await client.execProtocol(
      Buffer.concat([
        serialize.bind({ statement: statement.name, values: values as string[] }),
        serialize.describe({ type: "P" }),
        serialize.execute({}),
        serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const [first] = parse.parseResults(result.messages, client.parsers);
    return { rows: first?.rows ?? [] };
  };
  return (inTransaction) =>
    inTransaction
      ? (text, params) => exclusive.runExclusive(() => run(text, params))
      : (text, params) =>
          exclusive._runExclusiveTransaction(() =>
            exclusive.runExclusive(async () => {
              const rows = await run(text, params);
              // As PGlite's own `query` does after a statement outside a transaction.
              await client.syncToFs();
              return rows;
            }),
          );
}

/** The PGlite client as Drizzle should see it (the original stays untouched). */
export function driverClient(client: PGlite, schema: string): PGlite {
  const prepared = preparedRunner(client, schema);
  const outside = prepared(false);
  const inside = prepared(true);
  return new Proxy(client, {
    get(target, property) {
      if (property === "query") return wrapQuery(target as unknown as { query: Query });
      if (property === "queryPrepared") return outside;
      if (property === "transaction") {
        return (fn: (tx: unknown) => Promise<unknown>) =>
          target.transaction((tx) =>
            fn(
              new Proxy(tx, {
                get(inner, name) {
                  if (name === "query") return wrapQuery(inner as unknown as { query: Query });
                  if (name === "queryPrepared") return inside;
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

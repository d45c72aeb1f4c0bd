/**
 * Turns driver errors into Convo's typed errors. Drizzle wraps driver errors
 * (DrizzleQueryError) with the original in `cause`, and PGlite and pg both expose the
 * SQLSTATE as `code`, so the chain is walked for the first SQLSTATE.
 */
import { ConflictError, ConvoError, DatabaseUnavailableError, ValidationError } from "../errors.js";

interface PgLikeError {
  code?: string;
  constraint?: string;
  message?: string;
}

/** The SQLSTATE (or errno code) found in an error's cause chain. */
export function pgError(error: unknown): PgLikeError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as PgLikeError & { cause?: unknown };
    if (typeof candidate.code === "string") return candidate;
    current = candidate.cause;
  }
  return undefined;
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P03", // cannot_connect_now
  "08000",
  "08003",
  "08006",
]);

/**
 * Maps a database failure to a typed error; ConvoErrors and unknown failures pass through.
 * The store applies it to every unit of work; use it for database calls made around the store.
 *
 * @example
 * try {
 *   await engine.listen(channel, onPayload);
 * } catch (error) {
 *   throw mapDatabaseError(error); // e.g. DatabaseUnavailableError instead of ECONNREFUSED
 * }
 */
export function mapDatabaseError(error: unknown): unknown {
  if (error instanceof ConvoError) return error;
  const pg = pgError(error);
  if (!pg?.code) {
    if (
      error instanceof Error &&
      /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(error.message)
    ) {
      return new DatabaseUnavailableError("The database is unavailable", error);
    }
    return error;
  }
  if (CONNECTION_CODES.has(pg.code)) return new DatabaseUnavailableError("The database is unavailable", error);
  switch (pg.code) {
    case "23505":
      return new ConflictError("ALREADY_EXISTS", `A record with this key already exists (${pg.constraint ?? "unique key"})`, {
        constraint: pg.constraint,
      });
    case "23514":
      return new ValidationError(`A value breaks the rule ${pg.constraint ?? "(check)"}`, {
        constraint: pg.constraint,
      });
    case "22P02":
    case "22021":
    case "22P05":
    case "54000":
      return new ValidationError("A value cannot be stored as sent", { sqlstate: pg.code });
    default:
      return error;
  }
}

/**
 * True for the unique-violation SQLSTATE on the named constraint (any, when omitted),
 * wherever it sits in the error's cause chain.
 *
 * @example
 * try {
 *   await uow.db.insert(tables.users).values({ externalId: "tg:480637186" });
 * } catch (error) {
 *   if (isUniqueViolation(error, "users_external_id_key")) return uow.users.findByExternalId("tg:480637186");
 *   throw error;
 * }
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pg = pgError(error);
  return pg?.code === "23505" && (constraint === undefined || pg.constraint === constraint);
}

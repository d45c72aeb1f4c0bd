/**
 * Turns driver errors into Convo's typed errors. Drizzle wraps driver errors
 * (DrizzleQueryError) with the original in `cause`, and PGlite and pg both expose the
 * SQLSTATE as `code`, so the chain is walked for the first SQLSTATE. A dropped
 * connection often has no SQLSTATE at all (pg's "Connection terminated unexpectedly",
 * or "Client has encountered a connection error" from the ROLLBACK on the dead
 * client), so the messages along the chain are read too.
 */
import { ConflictError, ConvoError, DatabaseUnavailableError, ValidationError } from "../errors.js";

interface PgLikeError {
  code?: string;
  constraint?: string;
  message?: string;
}

/** Every error in `error`'s cause chain, outermost first (at most 8, cycles cut). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The SQLSTATE (or errno code) found in an error's cause chain. */
export function pgError(error: unknown): PgLikeError | undefined {
  for (const candidate of causeChain(error) as PgLikeError[]) {
    if (typeof candidate.code === "string") return candidate;
  }
  return undefined;
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EPIPE",
  "57P01", // admin_shutdown (pg_terminate_backend, pg_ctl stop -m fast)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down, in recovery)
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
]);

// What node-postgres and pg-pool say when a connection is gone, without a SQLSTATE.
const CONNECTION_MESSAGES =
  /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * True when `error` (or anything in its cause chain) says the database connection is
 * gone: the ORM wraps the driver's "Connection terminated unexpectedly", so the outer
 * message alone does not tell.
 *
 * @example
 * if (isConnectionError(error)) return reply.status(503).header("retry-after", "1").send();
 */
export function isConnectionError(error: unknown): boolean {
  for (const candidate of causeChain(error) as PgLikeError[]) {
    if (typeof candidate.code === "string" && CONNECTION_CODES.has(candidate.code)) return true;
    if (typeof candidate.message === "string" && CONNECTION_MESSAGES.test(candidate.message)) return true;
  }
  return false;
}

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
  if (isConnectionError(error)) return new DatabaseUnavailableError("The database is unavailable", error);
  const pg = pgError(error);
  switch (pg?.code) {
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
    case "22007": // invalid_datetime_format
    case "22008": // datetime_field_overflow
      return new ValidationError("A date or time is not valid or out of range", { sqlstate: pg.code });
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

/**
 * The legacy import (DESIGN.md §1.7): dialogs kept the old way — four columns on a
 * generic `sessions` table — become flat `assistant_sessions` rows.
 *
 * - Reads the source in keyset batches by `id`; each batch is written in one
 *   transaction, so an interrupted run keeps the batches it committed.
 * - Idempotent: every dialog carries `import_key = legacy:sessions:<id>` and the
 *   insert is `ON CONFLICT DO NOTHING`, so a re-run (or a resumed run) adds nothing
 *   twice and counts those rows as `alreadyImported`.
 * - A malformed row is skipped with a reason (see legacy-row.ts); it never aborts the
 *   import. Should the database still refuse a batch, its rows are retried one by one
 *   and only the refused ones are skipped.
 * - `dryRun` reads and maps everything and writes nothing.
 * - The old columns are never dropped here: `legacyColumnDropSql()` answers the SQL
 *   for the operator to run once satisfied.
 */
import { pgError } from "../db/pg-errors.js";
import { DatabaseUnavailableError, isConvoError, ValidationError } from "../errors.js";
import type { Store } from "../store.js";
import { assertEnv, assertUuid, intInRange } from "../validation.js";
import { type LegacyDialog, type LegacySessionRow, mapLegacyRow, SKIP_REASONS } from "./legacy-row.js";
import { type LegacySource, quoteTableName } from "./legacy-source.js";
import type { ImportedDialog } from "./types.js";

export interface LegacyImportOptions {
  /** The env the imported dialogs get (default `prod`). */
  env?: string;
  /** Read and map everything, write nothing, report what would happen. */
  dryRun?: boolean;
  /** Legacy rows per batch (default 500). */
  batchSize?: number;
  /** The legacy table (default `sessions`; `schema.table` allowed). */
  table?: string;
  /** Start after this legacy id (resume from a previous run's `lastId`); re-running from the start is also safe. */
  afterId?: string;
  /**
   * The legacy users table holding each user's Telegram id (joined on `users.id =
   * sessions.user_id`): default `users` beside the sessions table when it has the
   * Telegram id column; `false` never joins.
   */
  usersTable?: string | false;
  /** The Telegram id column of the users table (default `telegram_id`). */
  telegramIdColumn?: string;
  /** Called after each batch with rows read so far and the rows there are to read. */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

export interface LegacyImportResult {
  /** Legacy rows read. */
  read: number;
  /** Dialogs written (in a dry run: that would be written). */
  imported: number;
  /** Rows that are not dialogs or cannot be imported. */
  skipped: number;
  skippedByReason: Record<string, number>;
  /** Dialogs an earlier run imported already (left as they are). */
  alreadyImported: number;
  /** Convo users created for legacy users (in a dry run: that would be). */
  usersCreated: number;
  /** The users table whose Telegram ids mapped users to `tg:<id>`, or null. */
  telegramUsers: string | null;
  /** The last legacy id read (pass as `afterId` to resume after it). */
  lastId: string | null;
  dryRun: boolean;
}

/**
 * The SQL that drops the legacy columns, for the operator to run after checking the import. Never run by Convo.
 *
 * @example
 * console.log(legacyColumnDropSql("legacy.sessions"));
 * // ALTER TABLE legacy.sessions DROP COLUMN IF EXISTS assistant_messages; … (four statements)
 */
export function legacyColumnDropSql(table = "sessions"): string {
  const quoted = quoteTableName(table);
  // Printed as the seed wrote it; quoted only where the name needs it (capitals).
  const name = /^[a-z_][a-z0-9_.]*$/.test(table) ? table : quoted;
  return ["assistant_messages", "assistant_params", "assistant_error_count", "pending_photo_file_id"]
    .map((column) => `ALTER TABLE ${name} DROP COLUMN IF EXISTS ${column};`)
    .join("\n");
}

/** What the import found in the legacy database before reading a row. */
export interface LegacyTableShape {
  /** The id column's kind: keyset order and `afterId` follow it. */
  idKind: "uuid" | "integer";
  /** Optional columns the table has. */
  optional: string[];
  /** The legacy users table joined for Telegram ids, when there is one. */
  telegramUsers: { table: string; column: string } | null;
}

const REQUIRED: Record<string, string> = {
  id: "the row's id (uuid or integer)",
  user_id: "the dialog's owner (uuid or integer; joins the users table's id)",
  assistant_messages: "the chat (jsonb/json/text: [{ role, content }])",
  assistant_params: "the slots (jsonb/json/text: { style, emotion, pose, text, confirmed, step })",
};
const OPTIONAL = ["assistant_error_count", "pending_photo_file_id", "created_at", "updated_at"];
const INTEGER_TYPES = new Set(["smallint", "integer", "bigint"]);

/** The columns of a table (`name → type`), or undefined when there is no such table. */
async function columnsOf(source: LegacySource, table: string): Promise<Map<string, string> | undefined> {
  const { rows } = await source.query<{ name: string; type: string; found: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, true AS found
     FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [table],
  );
  if (rows.length === 0) return undefined;
  return new Map(rows.map((r) => [r.name, r.type]));
}

const missingColumn = (table: string, column: string, expected: string, code = "LEGACY_COLUMN_MISSING") =>
  new ValidationError(
    `The legacy table ${table} has no column "${column}" (${expected}). The import needs ${Object.keys(REQUIRED).join(", ")}; ` +
      `${OPTIONAL.join(", ")} are optional.`,
    { field: "table", table, column, expected },
    code,
  );

/**
 * Reads the legacy table's real columns before any work: a missing table or required
 * column is refused with a message naming it; optional columns may be absent; a
 * `users` table beside it with a Telegram id column is joined so dialogs land on the
 * `tg:<id>` users the bot creates.
 *
 * @example
 * const shape = await inspectLegacyTable(pgLegacySource(url), "sessions");
 * // { idKind: "integer", optional: ["created_at"], telegramUsers: { table: "users", column: "telegram_id" } }
 */
export async function inspectLegacyTable(
  source: LegacySource,
  table: string,
  options: { usersTable?: string | false; telegramIdColumn?: string } = {},
): Promise<LegacyTableShape> {
  const quoted = quoteTableName(table);
  const columns = await columnsOf(source, quoted);
  if (!columns) {
    throw new ValidationError(
      `The legacy table ${table} does not exist in the source database`,
      { field: "table", table },
      "LEGACY_TABLE_MISSING",
    );
  }
  for (const [column, expected] of Object.entries(REQUIRED)) {
    if (!columns.has(column)) throw missingColumn(table, column, expected);
  }
  const idType = columns.get("id") as string;
  if (idType !== "uuid" && !INTEGER_TYPES.has(idType)) {
    throw new ValidationError(
      `The legacy table ${table} has an id of type ${idType}; the import needs uuid or an integer`,
      {
        field: "table",
        table,
        column: "id",
        type: idType,
      },
      "LEGACY_COLUMN_TYPE",
    );
  }
  const telegramIdColumn = options.telegramIdColumn ?? "telegram_id";
  let telegramUsers: LegacyTableShape["telegramUsers"] = null;
  if (options.usersTable !== false) {
    // The users table beside the sessions table (same schema), unless named.
    const schema = table.includes(".") ? `${table.split(".")[0]}.` : "";
    const usersTable = options.usersTable ?? `${schema}users`;
    const userColumns = await columnsOf(source, quoteTableName(usersTable));
    if (userColumns?.has("id") && userColumns.has(telegramIdColumn)) {
      telegramUsers = { table: usersTable, column: telegramIdColumn };
    } else if (options.usersTable !== undefined) {
      if (!userColumns) {
        throw new ValidationError(
          `The legacy users table ${usersTable} does not exist`,
          { field: "usersTable", table: usersTable },
          "LEGACY_TABLE_MISSING",
        );
      }
      throw missingColumn(usersTable, userColumns.has("id") ? telegramIdColumn : "id", "the user's id and Telegram id");
    }
  }
  return {
    idKind: idType === "uuid" ? "uuid" : "integer",
    optional: OPTIONAL.filter((c) => columns.has(c)),
    telegramUsers,
  };
}

/** The SELECT of one batch for this table's shape (absent optional columns read as NULL). */
function batchQuery(table: string, shape: LegacyTableShape, after: boolean): string {
  const optional = OPTIONAL.map((c) => (shape.optional.includes(c) ? `s.${c}` : `NULL AS ${c}`)).join(", ");
  const cast = shape.idKind === "uuid" ? "uuid" : "bigint";
  const users = shape.telegramUsers;
  // Both sides as text: the legacy user ids may be uuid on one side and text on the other.
  const join = users ? ` LEFT JOIN ${quoteTableName(users.table)} u ON u.id::text = s.user_id::text` : "";
  const telegram = users ? `u."${users.column}"::text AS telegram_id` : "NULL AS telegram_id";
  return `SELECT s.id::text AS id, s.user_id::text AS user_id, s.assistant_messages, s.assistant_params, ${optional}, ${telegram}
    FROM ${table} s${join} ${after ? `WHERE s.id > $1::${cast} ` : ""}ORDER BY s.id LIMIT ${after ? "$2" : "$1"}`;
}

async function readBatch(source: LegacySource, table: string, shape: LegacyTableShape, afterId: string | null, limit: number) {
  // Two statements rather than `$1 IS NULL OR id > $1`, which would keep the planner from the id index.
  const { rows } =
    afterId === null
      ? await source.query<LegacySessionRow>(batchQuery(table, shape, false), [limit])
      : await source.query<LegacySessionRow>(batchQuery(table, shape, true), [afterId, limit]);
  return rows;
}

async function countRows(source: LegacySource, table: string, shape: LegacyTableShape, afterId: string | null): Promise<number> {
  const cast = shape.idKind === "uuid" ? "uuid" : "bigint";
  const { rows } =
    afterId === null
      ? await source.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`)
      : await source.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table} WHERE id > $1::${cast}`, [afterId]);
  return Number(rows[0]?.n ?? 0);
}

/** Failures that belong to one row's data (retry the others); anything else aborts. */
function isRowFailure(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return false;
  return isConvoError(error) || pgError(error)?.code !== undefined;
}

/** Answers, per batch, what was written and what an earlier run had written. */
class BatchWriter {
  /** Legacy users a dry run would create (counted once across batches). */
  readonly #wouldCreate = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly env: string,
    private readonly dryRun: boolean,
  ) {}

  #rows(dialogs: LegacyDialog[], users: Map<string, string>): ImportedDialog[] {
    return dialogs.flatMap(({ legacyId: _id, legacyUserId, ownerExternalId: _owner, ...dialog }) => {
      const userId = users.get(legacyUserId);
      return userId ? [{ ...dialog, userId, env: this.env }] : [];
    });
  }

  /** Writes (or, dry, checks) a batch: answers the dialogs new to Convo and users created. */
  write(dialogs: LegacyDialog[]): Promise<{ imported: number; users: number }> {
    const owners = new Map(dialogs.map((d) => [d.legacyUserId, { legacyUserId: d.legacyUserId, externalId: d.ownerExternalId }]));
    return this.store.transaction(async (uow) => {
      const map = await uow.legacyUsers.map([...owners.values()], uow.now, !this.dryRun);
      const rows = this.#rows(dialogs, map.users);
      if (!this.dryRun) return { imported: (await uow.assistantSessions.insertImported(rows)).length, users: map.created };
      const before = this.#wouldCreate.size;
      for (const id of map.missing) this.#wouldCreate.add(id);
      // Users that do not exist yet have no dialogs yet: all of theirs would be new.
      const existing = await uow.assistantSessions.existingImportKeys(rows);
      return { imported: dialogs.length - existing.size, users: this.#wouldCreate.size - before };
    });
  }
}

/** Checks a resume point against the kind of the legacy ids. */
function checkAfterId(afterId: string, kind: LegacyTableShape["idKind"]): string {
  if (kind === "uuid") return assertUuid("afterId", afterId);
  if (typeof afterId !== "string" || !/^-?\d{1,19}$/.test(afterId)) {
    throw new ValidationError("afterId must be an integer: the legacy ids are integers", { field: "afterId" });
  }
  return afterId;
}

/**
 * Imports dialogs from a legacy `sessions` table into Convo.
 *
 * @example
 * const source = pgLegacySource("postgres://old-db/app");
 * const result = await importLegacyDialogs(convo, source, { env: "prod", onProgress: (done, total) => bar.update(done, total) });
 * await source.close();
 * console.log(result, legacyColumnDropSql());
 */
export async function importLegacyDialogs(
  target: { store: Store },
  source: LegacySource,
  options: LegacyImportOptions = {},
): Promise<LegacyImportResult> {
  const env = options.env === undefined ? "prod" : assertEnv(options.env);
  const batchSize = intInRange("batchSize", options.batchSize, 1, 10_000, 500);
  const table = quoteTableName(options.table ?? "sessions");
  const dryRun = options.dryRun === true;
  // The table's real columns first: nothing is counted, read or written before they are right.
  const shape = await inspectLegacyTable(source, options.table ?? "sessions", {
    usersTable: options.usersTable,
    telegramIdColumn: options.telegramIdColumn,
  });
  let lastId = options.afterId === undefined ? null : checkAfterId(options.afterId, shape.idKind);
  const writer = new BatchWriter(target.store, env, dryRun);
  const result: LegacyImportResult = {
    read: 0,
    imported: 0,
    skipped: 0,
    skippedByReason: {},
    alreadyImported: 0,
    usersCreated: 0,
    telegramUsers: shape.telegramUsers?.table ?? null,
    lastId,
    dryRun,
  };
  const skip = (reason: string) => {
    result.skipped++;
    result.skippedByReason[reason] = (result.skippedByReason[reason] ?? 0) + 1;
  };
  const total = await countRows(source, table, shape, lastId);
  await options.onProgress?.(0, total);

  for (;;) {
    const rows = await readBatch(source, table, shape, lastId, batchSize);
    if (rows.length === 0) break;
    const now = target.store.clock();
    const dialogs: LegacyDialog[] = [];
    for (const row of rows) {
      const mapped = mapLegacyRow(row, now);
      if (mapped.ok) dialogs.push(mapped.dialog);
      else skip(mapped.reason);
    }
    if (dialogs.length > 0) {
      let outcome: { imported: number; users: number };
      try {
        outcome = await writer.write(dialogs);
      } catch (error) {
        if (!isRowFailure(error)) throw error;
        // Find the row(s) the database refused; commit the rest one by one.
        outcome = { imported: 0, users: 0 };
        const kept: LegacyDialog[] = [];
        for (const dialog of dialogs) {
          try {
            const one = await writer.write([dialog]);
            outcome.imported += one.imported;
            outcome.users += one.users;
            kept.push(dialog);
          } catch (rowError) {
            if (!isRowFailure(rowError)) throw rowError;
            skip(SKIP_REASONS.rejected);
          }
        }
        dialogs.splice(0, dialogs.length, ...kept);
      }
      result.imported += outcome.imported;
      result.usersCreated += outcome.users;
      result.alreadyImported += dialogs.length - outcome.imported;
    }
    result.read += rows.length;
    lastId = rows[rows.length - 1]?.id ?? lastId;
    result.lastId = lastId;
    await options.onProgress?.(result.read, Math.max(total, result.read));
  }
  return result;
}

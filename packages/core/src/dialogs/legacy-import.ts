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
import { DatabaseUnavailableError, isConvoError } from "../errors.js";
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

const COLUMNS = `id::text AS id, user_id::text AS user_id, assistant_messages, assistant_params,
  assistant_error_count, pending_photo_file_id, created_at, updated_at`;

async function readBatch(source: LegacySource, table: string, afterId: string | null, limit: number) {
  // Two statements rather than `$1 IS NULL OR id > $1`, which would keep the planner from the id index.
  const { rows } =
    afterId === null
      ? await source.query<LegacySessionRow>(`SELECT ${COLUMNS} FROM ${table} ORDER BY id LIMIT $1`, [limit])
      : await source.query<LegacySessionRow>(`SELECT ${COLUMNS} FROM ${table} WHERE id > $1::uuid ORDER BY id LIMIT $2`, [
          afterId,
          limit,
        ]);
  return rows;
}

async function countRows(source: LegacySource, table: string, afterId: string | null): Promise<number> {
  const { rows } =
    afterId === null
      ? await source.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`)
      : await source.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table} WHERE id > $1::uuid`, [afterId]);
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
    return dialogs.flatMap(({ legacyId: _id, legacyUserId, ...dialog }) => {
      const userId = users.get(legacyUserId);
      return userId ? [{ ...dialog, userId, env: this.env }] : [];
    });
  }

  /** Writes (or, dry, checks) a batch: answers the dialogs new to Convo and users created. */
  write(dialogs: LegacyDialog[]): Promise<{ imported: number; users: number }> {
    const legacyUsers = [...new Set(dialogs.map((d) => d.legacyUserId))];
    return this.store.transaction(async (uow) => {
      const map = await uow.legacyUsers.map(legacyUsers, uow.now, !this.dryRun);
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
  let lastId = options.afterId === undefined ? null : assertUuid("afterId", options.afterId);
  const writer = new BatchWriter(target.store, env, dryRun);
  const result: LegacyImportResult = {
    read: 0,
    imported: 0,
    skipped: 0,
    skippedByReason: {},
    alreadyImported: 0,
    usersCreated: 0,
    lastId,
    dryRun,
  };
  const skip = (reason: string) => {
    result.skipped++;
    result.skippedByReason[reason] = (result.skippedByReason[reason] ?? 0) + 1;
  };
  const total = await countRows(source, table, lastId);
  await options.onProgress?.(0, total);

  for (;;) {
    const rows = await readBatch(source, table, lastId, batchSize);
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

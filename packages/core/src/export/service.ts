/**
 * Exporting a user's data as NDJSON, streamed: rows are read in keyset batches and a
 * batch is read only when the consumer has taken the previous one, so memory stays
 * bounded by one batch whatever the user's history, and a slow client slows the reads
 * down (backpressure) instead of filling memory.
 */
import { NotFoundError } from "../errors.js";
import type { Store } from "../store.js";
import { assertUuid, intInRange } from "../validation.js";
import { EXPORT_SECTIONS, type ExportOptions, type ExportRecord } from "./types.js";

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function camelRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[camel(k)] = v;
  return out;
}

export class ExportService {
  constructor(private readonly store: Store) {}

  /**
   * Everything Convo holds about the user, record by record (see ExportRecord). Each
   * batch is its own read, so an export of a user who is writing at the same time sees
   * each row once but not one snapshot of all of them. Throws NotFoundError (before
   * yielding anything) for an unknown user.
   *
   * @example
   * for await (const record of convo.exports.records(userId)) console.log(record.type);
   */
  async *records(userId: string, options: ExportOptions = {}): AsyncGenerator<ExportRecord> {
    const uid = assertUuid("userId", userId);
    const batchSize = intInRange("batchSize", options.batchSize, 1, 10_000, 500);
    const exists = await this.store.read(async (uow) => uow.users.find(uid));
    if (!exists) throw new NotFoundError("user", uid);
    yield { type: "export", data: { userId: uid, exportedAt: this.store.clock(), format: "convo-export/1" } };
    for (const section of EXPORT_SECTIONS) {
      let after: unknown[] | undefined;
      for (;;) {
        const rows = await this.store.read((uow) => uow.exports.batch(section.table, section.key, uid, batchSize, after));
        options.onBatch?.(section.type, rows.length);
        for (const row of rows) yield { type: section.type, data: camelRow(row) };
        if (rows.length < batchSize) break;
        const last = rows[rows.length - 1] as Record<string, unknown>;
        after = section.key.map((k) => last[k]);
      }
    }
  }

  /**
   * The export as NDJSON lines (each ends with `\n`), for streaming to a file or an
   * HTTP response (`Readable.from(convo.exports.ndjson(userId))`).
   *
   * @example
   * await pipeline(Readable.from(convo.exports.ndjson(userId)), createWriteStream("user.ndjson"));
   */
  async *ndjson(userId: string, options: ExportOptions = {}): AsyncGenerator<string> {
    for await (const record of this.records(userId, options)) yield `${JSON.stringify(record)}\n`;
  }
}

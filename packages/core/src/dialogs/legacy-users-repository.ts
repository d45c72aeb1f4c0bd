/**
 * SQL for mapping legacy user ids to Convo users during the legacy import: a Telegram
 * id from the legacy users table makes the user `tg:<id>`; a legacy UUID that is also
 * a Convo user's id is that user; any other becomes (or finds) `legacy:<id>`.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";
import { users } from "../db/schema.js";
import { isUuid } from "../validation.js";

/** The external id a legacy user gets in Convo. */
export const legacyExternalId = (legacyUserId: string) => `legacy:${legacyUserId}`;

export interface LegacyUserMap {
  /** legacy user id → Convo user id (missing: the user would be created, in a dry run). */
  users: Map<string, string>;
  /** Users created by this call. */
  created: number;
  /** External ids of the users that do not exist (left unmapped when not creating). */
  missing: string[];
}

/** The owner of a legacy dialog: its legacy user id, and `tg:<id>` when the legacy users table had one. */
export interface LegacyOwner {
  legacyUserId: string;
  externalId: string | null;
}

export class LegacyUsersRepository {
  constructor(private readonly db: Db) {}

  /**
   * Maps legacy users to Convo users (keyed by legacy user id). With a Telegram id the
   * user is `tg:<id>` — the user the bot middleware creates, so imported and new dialogs
   * belong to one user. Otherwise a legacy UUID that is a Convo user's id is that user,
   * and anything else is `legacy:<id>`. Missing users are created unless `create` is false.
   */
  async map(owners: LegacyOwner[], now: Date, create: boolean): Promise<LegacyUserMap> {
    const map = new Map<string, string>();
    if (owners.length === 0) return { users: map, created: 0, missing: [] };
    const uuids = owners.filter((o) => o.externalId === null && isUuid(o.legacyUserId)).map((o) => o.legacyUserId);
    if (uuids.length > 0) {
      // sql.param: a bare array in a drizzle template would expand to a list of parameters.
      const same = await queryRows<{ id: string }>(
        this.db,
        sql`SELECT id FROM ${users} WHERE id = ANY(${sql.param(uuids)}::uuid[])`,
      );
      for (const { id } of same) map.set(id, id);
    }
    const rest = owners.filter((o) => !map.has(o.legacyUserId));
    if (rest.length === 0) return { users: map, created: 0, missing: [] };
    const externalOf = (o: LegacyOwner) => o.externalId ?? legacyExternalId(o.legacyUserId);
    const externalIds = [...new Set(rest.map(externalOf))];
    let created = 0;
    if (create) {
      const inserted = await queryRows(
        this.db,
        sql`INSERT INTO ${users} (external_id, created_at, updated_at)
            SELECT unnest(${sql.param(externalIds)}::text[]), ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
            ON CONFLICT (external_id) DO NOTHING RETURNING id`,
      );
      created = inserted.length;
    }
    const found = await queryRows<{ id: string; external_id: string }>(
      this.db,
      sql`SELECT id, external_id FROM ${users} WHERE external_id = ANY(${sql.param(externalIds)}::text[])`,
    );
    const byExternal = new Map(found.map((row) => [row.external_id, row.id]));
    for (const owner of rest) {
      const id = byExternal.get(externalOf(owner));
      if (id) map.set(owner.legacyUserId, id);
    }
    const missing = [...new Set(rest.filter((o) => !map.has(o.legacyUserId)).map(externalOf))];
    return { users: map, created, missing };
  }
}

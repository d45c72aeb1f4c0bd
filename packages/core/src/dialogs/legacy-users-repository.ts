/**
 * SQL for mapping legacy user ids to Convo users during the legacy import. A legacy
 * user id that is also a Convo user's id is that user; any other becomes (or finds)
 * the Convo user with `external_id = 'legacy:<id>'`.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";
import { users } from "../db/schema.js";

/** The external id a legacy user gets in Convo. */
export const legacyExternalId = (legacyUserId: string) => `legacy:${legacyUserId}`;

export interface LegacyUserMap {
  /** legacy user id → Convo user id (missing: the user would be created, in a dry run). */
  users: Map<string, string>;
  /** Users created by this call. */
  created: number;
  /** Legacy user ids with no Convo user (left unmapped when not creating). */
  missing: string[];
}

export class LegacyUsersRepository {
  constructor(private readonly db: Db) {}

  /** Maps `legacyIds`; creates the missing `legacy:` users unless `create` is false. */
  async map(legacyIds: string[], now: Date, create: boolean): Promise<LegacyUserMap> {
    const map = new Map<string, string>();
    if (legacyIds.length === 0) return { users: map, created: 0, missing: [] };
    // sql.param: a bare array in a drizzle template would expand to a list of parameters.
    const same = await queryRows<{ id: string }>(
      this.db,
      sql`SELECT id FROM ${users} WHERE id = ANY(${sql.param(legacyIds)}::uuid[])`,
    );
    for (const { id } of same) map.set(id, id);
    const rest = legacyIds.filter((id) => !map.has(id));
    if (rest.length === 0) return { users: map, created: 0, missing: [] };
    const externalIds = rest.map(legacyExternalId);
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
    for (const row of found) map.set(row.external_id.slice("legacy:".length), row.id);
    return { users: map, created, missing: rest.filter((id) => !map.has(id)) };
  }
}

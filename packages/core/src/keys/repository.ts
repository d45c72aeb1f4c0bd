/** SQL for admin API keys (stored as SHA-256 hashes only). */
import { and, desc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/engine.js";
import { apiKeys } from "../db/schema.js";
import type { ApiKeyRow } from "./types.js";

export class ApiKeysRepository {
  constructor(private readonly db: Db) {}

  async insert(values: { name: string; prefix: string; hash: string; now: Date }): Promise<ApiKeyRow> {
    const [row] = await this.db
      .insert(apiKeys)
      .values({ name: values.name, prefix: values.prefix, hash: values.hash, createdAt: values.now })
      .returning();
    return row as ApiKeyRow;
  }

  async list(): Promise<ApiKeyRow[]> {
    return this.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
  }

  /** Id and hash of every key not revoked. */
  async active(): Promise<{ id: string; hash: string }[]> {
    return this.db.select({ id: apiKeys.id, hash: apiKeys.hash }).from(apiKeys).where(isNull(apiKeys.revokedAt));
  }

  async revoke(id: string, now: Date): Promise<ApiKeyRow | undefined> {
    const rows = await this.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    return rows[0];
  }
}

import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/engine.js";

/**
 * The secret named `name`, created on first use. Every node of an installation
 * reads the same row, so what one node signs the others accept, across restarts.
 * The first writer wins (`ON CONFLICT DO NOTHING`), so nodes starting together agree.
 *
 * @example
 * const cursorKey = await sharedSecret(engine.db, "cursor");
 */
export async function sharedSecret(db: Db, name: string): Promise<Buffer> {
  const fresh = randomBytes(32).toString("base64url");
  await db.execute(sql`INSERT INTO server_secrets (name, value) VALUES (${name}, ${fresh}) ON CONFLICT (name) DO NOTHING`);
  const rows = await queryRows<{ value: string }>(db, sql`SELECT value FROM server_secrets WHERE name = ${name}`);
  return Buffer.from(rows[0]?.value ?? fresh, "base64url");
}

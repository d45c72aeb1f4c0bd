/**
 * Admin API keys: a backend acting for any user. The key is shown once at creation;
 * only its SHA-256 is stored, so a database leak does not leak working keys.
 */
import { createHash, randomBytes } from "node:crypto";
import { NotFoundError } from "../errors.js";
import type { Store } from "../store.js";
import { assertText, assertUuid } from "../validation.js";
import type { ApiKey } from "./types.js";

/**
 * The SHA-256 of a key, hex — what is stored and compared.
 *
 * @example
 * const presented = Buffer.from(hashApiKey(bearerKey), "hex");
 * const match = (await apiKeys.activeHashes()).find((k) => timingSafeEqual(Buffer.from(k.hash, "hex"), presented));
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

const toApiKey = (row: { id: string; name: string; prefix: string; createdAt: Date; revokedAt: Date | null }): ApiKey => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
});

/**
 * Admin API keys for the HTTP API (`convo keys` in the CLI). Only their hashes are
 * kept, so a lost key cannot be shown again: revoke it and create another.
 *
 * @example
 * const apiKeys = new ApiKeysService(convo.store);
 * const { key, apiKey } = await apiKeys.create("billing-backend");
 * console.log(`Store this key now, it is not shown again: ${key}`);
 * await apiKeys.revoke(apiKey.id);
 */
export class ApiKeysService {
  constructor(private readonly store: Store) {}

  /** Creates a key; answers it in clear text once (`key`) with its record. */
  async create(name: string): Promise<{ key: string; apiKey: ApiKey }> {
    assertText("name", name, { max: 100 });
    const key = `convo_sk_${randomBytes(24).toString("base64url")}`;
    return this.store.statement(async (uow) => {
      const row = await uow.apiKeys.insert({
        name,
        prefix: key.slice(0, 13),
        hash: hashApiKey(key),
        now: uow.now,
      });
      return { key, apiKey: toApiKey(row) };
    });
  }

  /** Every key's record, revoked ones included (never the key itself). */
  async list(): Promise<ApiKey[]> {
    return this.store.statement(async (uow) => (await uow.apiKeys.list()).map(toApiKey));
  }

  /** Hashes of the keys in force, for the server's in-memory check. */
  async activeHashes(): Promise<{ id: string; hash: string }[]> {
    return this.store.statement((uow) => uow.apiKeys.active());
  }

  /** Revokes a key (it stops working); NotFoundError for an unknown id. */
  async revoke(id: string): Promise<ApiKey> {
    const keyId = assertUuid("id", id);
    return this.store.statement(async (uow) => {
      const row = await uow.apiKeys.revoke(keyId, uow.now);
      if (!row) throw new NotFoundError("api key", keyId);
      return toApiKey(row);
    });
  }
}

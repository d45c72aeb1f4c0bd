/**
 * The admin keys in force, held in memory and refreshed every few seconds, so a
 * request costs no database round trip to authenticate. The presented key's hash is
 * compared with every stored hash in constant time (Hono's bearerAuth does the same),
 * so timing reveals nothing about how close a guess was. A revoked key stops working
 * within `ttlMs`.
 */
import { timingSafeEqual } from "node:crypto";
import { type ApiKeysService, hashApiKey } from "@convo/core/internal";

export class ApiKeyCache {
  #keys: { id: string; hash: Buffer }[] = [];
  #loadedAt = 0;
  #loading: Promise<void> | undefined;

  constructor(
    private readonly service: ApiKeysService,
    private readonly ttlMs = 5_000,
  ) {}

  async #refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.#loadedAt < this.ttlMs) return;
    this.#loading ??= this.service
      .activeHashes()
      .then((rows) => {
        this.#keys = rows.map((r) => ({ id: r.id, hash: Buffer.from(r.hash, "hex") }));
        this.#loadedAt = Date.now();
      })
      .finally(() => {
        this.#loading = undefined;
      });
    await this.#loading;
  }

  /** True when at least one key is in force. */
  async any(): Promise<boolean> {
    await this.#refresh(true);
    return this.#keys.length > 0;
  }

  /** The id of the key `presented` matches, or undefined. */
  async verify(presented: string): Promise<string | undefined> {
    await this.#refresh();
    const hash = Buffer.from(hashApiKey(presented), "hex");
    let match: string | undefined;
    for (const key of this.#keys) {
      if (timingSafeEqual(key.hash, hash)) match = key.id;
    }
    return match;
  }
}

/** The shapes of admin API keys. */
import type { apiKeys } from "../db/schema.js";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export interface ApiKey {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it in lists. */
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

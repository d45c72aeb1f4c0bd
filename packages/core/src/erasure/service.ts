/** Erasing a user ("right to be forgotten"): every row about them, in one transaction. */
import { NotFoundError } from "../errors.js";
import type { Store } from "../store.js";
import { assertUuid } from "../validation.js";
import { ERASED_TABLES, type ErasedTable, type ErasureReceipt } from "./types.js";

export class ErasureService {
  constructor(private readonly store: Store) {}

  /**
   * Deletes everything Convo holds about the user — profile, conversations, messages,
   * summaries, state, runs and their events, dialogs, webhook events and deliveries —
   * in one transaction, and answers a receipt with the rows removed per table. Either
   * all of it goes or nothing does. Throws NotFoundError for an unknown user.
   *
   * @example
   * const receipt = await convo.erasure.erase(userId);
   * console.log(receipt.tables.messages, receipt.total);
   */
  async erase(userId: string): Promise<ErasureReceipt> {
    const uid = assertUuid("userId", userId);
    return this.store.transaction(async (uow) => {
      const repo = uow.erasure;
      if (!(await repo.lockUser(uid))) throw new NotFoundError("user", uid);
      const tables = {} as Record<ErasedTable, number>;
      let total = 0;
      for (const table of ERASED_TABLES) {
        tables[table] = await repo.deleteFrom(table, uid);
        total += tables[table];
      }
      return { userId: uid, erasedAt: uow.now, tables, total };
    });
  }
}

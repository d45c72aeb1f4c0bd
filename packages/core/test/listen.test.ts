import pg from "pg";
import { describe, expect, it } from "vitest";
import { openTestConvo } from "./support/engines.js";

const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)("LISTEN on PostgreSQL", () => {
  it("listens again after its connection is killed", async () => {
    const convo = await openTestConvo("postgres");
    const channel = `convo_listen_test_${convo.store.engine.schema}`;
    const received: string[] = [];
    await convo.store.engine.listen(channel, (payload) => received.push(payload));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const waitFor = async (payload: string) => {
        for (let i = 0; i < 200 && !received.includes(payload); i++) {
          await admin.query("SELECT pg_notify($1, $2)", [channel, payload]);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return received.includes(payload);
      };
      expect(await waitFor("before")).toBe(true);
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
        [`LISTEN "${channel}"`],
      );
      expect(killed.rowCount).toBe(1);
      expect(await waitFor("after")).toBe(true);
    } finally {
      await admin.end();
    }
  });
});

/** `convo summarize`: write the summaries of closed conversations (the backfill for old ones). */
import type { Command } from "commander";
import { openFromFlags, withDatabaseOptions } from "./options.js";

export function registerMemoryCommands(program: Command): void {
  withDatabaseOptions(
    program
      .command("summarize")
      .description(
        "Write conversation summaries: those closes left due, or with --backfill every closed conversation lacking one",
      )
      .option("--backfill", "summarize every closed conversation whose summary is missing or behind its messages")
      .option("--batch-size <n>", "conversations read per batch (default 200)", Number),
  ).action(async (flags) => {
    const convo = await openFromFlags(flags);
    try {
      if (flags.backfill) {
        const result = await convo.summaries.backfill({
          batchSize: flags.batchSize,
          onProgress: (p) => process.stderr.write(`\rsummarized ${p.written} of ${p.seen} (failed ${p.failed})`),
        });
        process.stderr.write("\n");
        console.log(`written ${result.written}, failed ${result.failed}, seen ${result.seen}`);
        if (result.failed > 0) {
          console.log("Failures are stored as summary warnings; the sweep retries them (or run this again).");
          process.exitCode = 2;
        }
      } else {
        const result = await convo.summaries.runPending();
        console.log(`written ${result.written}, failed ${result.failed}`);
      }
    } finally {
      await convo.close();
    }
  });
}

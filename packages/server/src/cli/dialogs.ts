/** `convo stats` and `convo import-legacy`: the dialog commands. */
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { StartupError } from "../startup-error.js";
import { openFromFlags, withDatabaseOptions } from "./options.js";

const table = (rows: [string, string | number][]) => {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n");
};

/**
 * Opens the legacy database named by --from, failing with one clear line (and never
 * printing its password): pg would otherwise read "not a url" as a host name and a
 * mysql:// URL as a PostgreSQL one.
 */
async function openSource(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new StartupError(`--from is not a URL: ${url.replace(/\/\/[^@]*@/, "//***@")}`, "BAD_SOURCE_URL", { cause });
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new StartupError(`--from must start with postgres:// (got ${parsed.protocol})`, "BAD_SOURCE_URL");
  }
  const { pgLegacySource } = await import("@convo/core");
  const source = pgLegacySource(url);
  try {
    await source.query("SELECT 1");
  } catch (error) {
    await source.close();
    throw new StartupError(`Cannot connect to the legacy database at --from: ${(error as Error).message}`, "SOURCE_UNAVAILABLE", {
      cause: error,
    });
  }
  return source;
}

export function registerDialogCommands(program: Command): void {
  withDatabaseOptions(
    program
      .command("stats")
      .description("Dialog analytics: top goals and styles, funnel, steps, statuses, style+emotion pairs")
      .option("--env <env>", "only dialogs of this env")
      .option("--from <iso>", "dialogs created at or after (ISO 8601)")
      .option("--to <iso>", "dialogs created before (ISO 8601)")
      .option("--limit <n>", "rows of the top lists", Number)
      .option("--json", "print JSON"),
  ).action(async (flags) => {
    const convo = await openFromFlags(flags);
    try {
      const report = await convo.dialogAnalytics.report({ env: flags.env, from: flags.from, to: flags.to, limit: flags.limit });
      if (flags.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      console.log("Funnel");
      console.log(table(Object.entries(report.funnel)));
      console.log("\nStatuses");
      console.log(table(Object.entries(report.statuses)));
      console.log("\nSteps of confirmed dialogs");
      console.log(table(Object.entries(report.steps).map(([k, v]) => [k, v === null ? "–" : String(v)])));
      console.log("\nTop goals");
      console.log(table(report.goals.map((g) => [g.goal, g.count])) || "  (none)");
      console.log("\nTop styles (confirmed)");
      console.log(table(report.styles.map((s) => [s.style ?? "(none)", s.count])) || "  (none)");
      console.log("\nTop style + emotion (confirmed)");
      console.log(table(report.combos.map((c) => [`${c.style ?? "(none)"} + ${c.emotion ?? "(none)"}`, c.count])) || "  (none)");
    } finally {
      await convo.close();
    }
  });

  withDatabaseOptions(
    program
      .command("import-legacy")
      .description("Import dialogs kept in a legacy sessions table (assistant_* columns) into assistant_sessions")
      .requiredOption("--from <url>", "PostgreSQL URL of the legacy database")
      .option("--table <name>", "legacy table (schema.table allowed)", "sessions")
      .option("--env <env>", "env of the imported dialogs", "prod")
      .option("--dry-run", "read and check everything, write nothing")
      .option("--after-id <id>", "resume after this legacy id (printed by an interrupted run)")
      .option("--users-table <name>", "legacy users table with the Telegram ids (default: users, when it has the column)")
      .option("--telegram-id-column <name>", "the Telegram id column of the users table", "telegram_id")
      .option("--no-users-table", "do not map users by Telegram id"),
  ).action(async (flags) => {
    // The source first: a bad --from must not create or migrate the target.
    const source = await openSource(flags.from);
    const convo = await openFromFlags(flags).catch(async (error: unknown) => {
      await source.close();
      throw error;
    });
    const bar = new SingleBar({
      format: "importing [{bar}] {percentage}% | {value}/{total} rows | {eta}s left",
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    });
    let started = false;
    try {
      const { importLegacyDialogs } = await import("@convo/core");
      const result = await importLegacyDialogs(convo, source, {
        env: flags.env,
        table: flags.table,
        dryRun: flags.dryRun === true,
        afterId: flags.afterId,
        // commander: --no-users-table sets usersTable to false, --users-table <name> to the name.
        usersTable: flags.usersTable === true ? undefined : flags.usersTable,
        telegramIdColumn: flags.telegramIdColumn,
        onProgress: (done, total) => {
          if (!started) {
            bar.start(total, done);
            started = true;
          }
          bar.setTotal(total);
          bar.update(done);
        },
      });
      bar.stop();
      console.log(`${result.dryRun ? "Dry run (nothing written)" : "Import finished"}`);
      console.log(
        table([
          ["read", result.read],
          [result.dryRun ? "would import" : "imported", result.imported],
          ["already imported", result.alreadyImported],
          ["skipped", result.skipped],
          ...Object.entries(result.skippedByReason).map(([reason, n]): [string, number] => [`  ${reason}`, n]),
          ["users created", result.usersCreated],
        ]),
      );
      console.log(
        result.telegramUsers
          ? `Users with a Telegram id in ${result.telegramUsers} are the bot's users tg:<id>; the others are legacy:<user_id>.`
          : "No legacy users table with Telegram ids: users are legacy:<user_id> (link them with PATCH /v1/users/:id).",
      );
      console.log("\nOnce you have checked the imported dialogs, drop the legacy columns yourself (Convo never runs this):\n");
      const { legacyColumnDropSql } = await import("@convo/core");
      console.log(legacyColumnDropSql(flags.table));
    } catch (error) {
      bar.stop();
      throw error;
    } finally {
      await source.close();
      await convo.close();
    }
  });
}

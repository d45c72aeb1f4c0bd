/** Options shared by the CLI commands that open the database. */
import type { Convo } from "@convo/core";
import type { Command } from "commander";
import { configFromEnv, type ServerConfig } from "../config.js";

export interface DatabaseFlags {
  databaseUrl?: string;
  dataDir?: string;
  schema?: string;
}

/** Adds --database-url, --data-dir and --schema to a command. */
export function withDatabaseOptions(command: Command): Command {
  return command
    .option("--database-url <url>", "PostgreSQL URL (default: $DATABASE_URL; none = embedded PGlite)")
    .option("--data-dir <dir>", "PGlite data directory (default: $CONVO_DATA_DIR or ./.convo-data)")
    .option("--schema <name>", "PostgreSQL schema for Convo's tables (default: public)");
}

/** The server configuration from the environment with the command's flags on top. */
export function configWith(flags: DatabaseFlags & Partial<ServerConfig>): ServerConfig {
  const base = configFromEnv();
  return {
    ...base,
    databaseUrl: flags.databaseUrl ?? base.databaseUrl,
    dataDir: flags.dataDir ?? base.dataDir,
    schema: flags.schema ?? base.schema,
  };
}

/** Opens Convo for a one-off command (migrations are applied on open), with serve's clear errors. */
export async function openFromFlags(flags: DatabaseFlags): Promise<Convo> {
  const { openDatabase } = await import("../server.js");
  return openDatabase(configWith(flags));
}

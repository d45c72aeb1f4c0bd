/**
 * The `convo` command: serve, migrate, sweep, keys, token, stats, import-legacy, summarize. Every command has --help;
 * failures print one clear line (and the cause with --verbose) and exit non-zero.
 * Each command imports what it needs when it runs, so `convo --help` loads neither
 * the server, nor the database drivers, nor the model providers.
 */
import { Command, InvalidArgumentError } from "commander";
import { StartupError } from "../startup-error.js";
import { registerBotCommand } from "./bot.js";
import { registerDialogCommands } from "./dialogs.js";
import { registerMemoryCommands } from "./memory.js";
import { configWith, openFromFlags, withDatabaseOptions } from "./options.js";

const program = new Command()
  .name("convo")
  .description("Convo: durable memory and run engine for AI chat assistants")
  .option("--verbose", "print stack traces on failure")
  .showHelpAfterError();

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be a port number (0–65535)");
  return n;
};

withDatabaseOptions(
  program
    .command("serve")
    .description("Run the HTTP API (embedded PGlite in ./.convo-data unless --database-url is given)")
    .option("-p, --port <port>", "port to listen on (default: $PORT or 8787)", port)
    .option("--host <host>", "address to listen on (default: 127.0.0.1 when open, 0.0.0.0 with credentials)")
    .option("--sweep-interval <ms>", "how often to run the lifecycle sweeps (default 60000; 0 = never)", Number),
).action(async (flags) => {
  const config = configWith(flags);
  if (flags.port !== undefined) config.port = flags.port;
  if (flags.host !== undefined) config.host = flags.host;
  if (flags.sweepInterval !== undefined) config.sweepIntervalMs = flags.sweepInterval;
  const { startServer } = await import("../server.js");
  const server = await startServer(config);
  const engine = config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.dataDir}`;
  process.stdout.write(
    [
      `Convo is listening on ${server.url} (${engine})`,
      `  API docs:  ${server.url}/docs`,
      `  health:    ${server.url}/readyz`,
      server.open
        ? "  auth:      OPEN (no key configured; loopback only). Create a key with: npx convo keys create <name>"
        : "  auth:      Authorization: Bearer <admin key | user token>  (keys: npx convo keys create <name>)",
      "",
    ].join("\n"),
  );
  // The first signal shuts down gracefully within config.shutdownTimeoutMs; a second
  // one reaches that deadline at once (connections closed) but still cleans up. A
  // backstop exits even if cleanup itself hangs, so a node never outlives its deadline
  // by more than a few seconds.
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) {
      server.app.log.warn(`${signal} again: closing open connections now`);
      server.hurry();
      return;
    }
    server.app.log.info(`${signal}: shutting down (deadline ${config.shutdownTimeoutMs ?? 10_000} ms)`);
    setTimeout(
      () => {
        void server.openWork().then((open) => {
          server.app.log.error({ open }, "shutdown did not finish after its deadline: exiting");
          process.exit(1);
        });
      },
      (config.shutdownTimeoutMs ?? 10_000) + 3_000,
    ).unref();
    server.close().then(
      ({ timedOut }) => process.exit(timedOut ? 1 : 0),
      (error: unknown) => {
        server.app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
});

withDatabaseOptions(program.command("migrate").description("Apply database migrations and exit")).action(async (flags) => {
  const convo = await openFromFlags(flags);
  await convo.close();
  console.log("Migrations applied.");
});

withDatabaseOptions(program.command("sweep").description("Run the lifecycle sweeps once and print what they did")).action(
  async (flags) => {
    const convo = await openFromFlags(flags);
    try {
      const result = await convo.sweeps.runAll();
      for (const [name, rows] of Object.entries(result)) console.log(`${name.padEnd(18)} ${rows}`);
    } finally {
      await convo.close();
    }
  },
);

const keys = program.command("keys").description("Manage admin API keys");
withDatabaseOptions(keys.command("create <name>").description("Create an admin key (shown once)")).action(
  async (name: string, flags) => {
    const convo = await openFromFlags(flags);
    try {
      const { ApiKeysService } = await import("@convo/core/internal");
      const { key, apiKey } = await new ApiKeysService(convo.store).create(name);
      console.log(key);
      console.error(`Created key ${apiKey.id} (${apiKey.name}). Store it now: it is not shown again.`);
    } finally {
      await convo.close();
    }
  },
);
withDatabaseOptions(keys.command("list").description("List admin keys")).action(async (flags) => {
  const convo = await openFromFlags(flags);
  try {
    const { ApiKeysService } = await import("@convo/core/internal");
    for (const k of await new ApiKeysService(convo.store).list()) {
      console.log(
        `${k.id}  ${k.prefix}…  ${k.name}  created ${k.createdAt.toISOString()}${k.revokedAt ? `  REVOKED ${k.revokedAt.toISOString()}` : ""}`,
      );
    }
  } finally {
    await convo.close();
  }
});
withDatabaseOptions(keys.command("revoke <id>").description("Revoke an admin key")).action(async (id: string, flags) => {
  const convo = await openFromFlags(flags);
  try {
    const { ApiKeysService } = await import("@convo/core/internal");
    const k = await new ApiKeysService(convo.store).revoke(id);
    console.log(`Revoked ${k.id} (${k.name}).`);
  } finally {
    await convo.close();
  }
});

registerDialogCommands(program);
registerBotCommand(program);
registerMemoryCommands(program);

program
  .command("token <userId>")
  .description("Mint an end-user token (JWT, sub = userId) signed with $CONVO_JWT_SECRET, for testing")
  .option("--expires-in <span>", "lifetime, e.g. 1h, 7d", "1h")
  .action(async (userId: string, flags: { expiresIn: string }) => {
    const { isUuid } = await import("@convo/core");
    if (!isUuid(userId)) throw new InvalidArgumentError("userId must be a user id (UUID)");
    const secret = process.env.CONVO_JWT_SECRET;
    if (!secret) throw new StartupError("Set CONVO_JWT_SECRET (the server must use the same secret)", "NO_JWT_SECRET");
    const { mintToken } = await import("../auth/tokens.js");
    console.log(await mintToken(secret, userId.toLowerCase(), { expiresIn: flags.expiresIn }));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // A ConvoError (from any copy of the core) carries a stable upper-case code.
  const isConvoError = error instanceof Error && "code" in error && "status" in error;
  const message =
    isConvoError || error instanceof StartupError || error instanceof InvalidArgumentError ? error.message : String(error);
  console.error(`convo: ${message}`);
  if (program.opts().verbose && error instanceof Error) console.error(error.stack);
  process.exit(1);
}

/**
 * Refusing to start: bad configuration, busy port, locked data directory. A module of
 * its own so the CLI can name it without loading the server.
 *
 * @example
 * throw new StartupError("Set CONVO_JWT_SECRET", "NO_JWT_SECRET");
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StartupError";
  }
}

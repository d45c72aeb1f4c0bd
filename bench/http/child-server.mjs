/**
 * How the benchmark's child servers (bench/http/server-process.ts spawns them) start and
 * stop: listen on a free loopback port, print `listening on <url>` (the line the parent
 * waits for), and on SIGTERM close their connections, run `onStop`, and exit.
 *
 *   serveForParent(http.createServer(handler), () => pool.end());
 */
export function serveForParent(server, onStop = async () => {}) {
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections?.();
    Promise.resolve()
      .then(onStop)
      .finally(() => process.exit(0));
  });
}

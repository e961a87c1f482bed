import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createBff, type Bff, type BffOptions } from './app.ts';
import { loadConfig, type BffConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createLogger } from './logger.ts';
import { serverOptions } from './middleware/limits.ts';
import { upgradeHandler } from './routes/proxy-ws.ts';

/** On SIGTERM, requests in flight get this long to finish: under the 10 s Docker and most orchestrators wait before SIGKILL. */
export const SHUTDOWN_GRACE_MS = 9_000;
/**
 * Longer than the idle timeout of the load balancers in front (AWS ALB: 60 s), so they never reuse a
 * connection we just closed. (headersTimeout need not exceed it: since Node 18 the head's clock starts at
 * the request's first byte, not when the connection went idle.)
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface ServerHandle {
  server: Server;
  app: Bff;
  logger: Logger;
  /**
   * Graceful stop: no new connections, idle keep-alive connections closed, requests in flight
   * finish (answered with `Connection: close`). Resolves 'drained', or 'forced' when `graceMs`
   * ran out and the remaining connections were cut. Idempotent.
   */
  shutdown(graceMs?: number): Promise<'drained' | 'forced'>;
}

/** Starts the BFF on config.host (LATCH_HOST, default 127.0.0.1) and config.port (PORT). Resolves once listening. */
export async function startServer(config: BffConfig, options: BffOptions = {}): Promise<ServerHandle> {
  const logger = options.logger ?? createLogger(config.logLevel);
  let draining = false;
  // While draining, every answer the app gives says `Connection: close` (set by its edge as the answer
  // is made). No per-request bookkeeping here: a Set of the responses in flight, touched twice per
  // request, made every young-generation GC of a proxied request several times dearer (docs/bench.md).
  const app = createBff(config, { ...options, logger, closing: () => draining });
  // Node's header ceiling above LATCH_MAX_HEADER_BYTES, so oversized heads get the coded 431 from the app;
  // each request, body included, within LATCH_REQUEST_TIMEOUT_MS (serverOptions() has Node's rules).
  const server = createServer({ ...serverOptions(config), keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, app.callback());
  // WebSockets on /api/<name>/… (routes/proxy-ws.ts): Node hands upgrades to this event, not to the app.
  const upgrades = upgradeHandler(app);
  server.on('upgrade', upgrades);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : config.port;
  logger.info({ port, host: config.host }, 'latch-bff listening');

  let stopping: Promise<'drained' | 'forced'> | undefined;
  return {
    server,
    app,
    logger,
    shutdown(graceMs = SHUTDOWN_GRACE_MS) {
      stopping ??= new Promise((resolve) => {
        draining = true;
        // Open event streams end now (EventSource reconnects to another instance within 5 s), and the
        // bus's Redis subscription with them: neither keeps the drain waiting.
        void app.latch.live?.close();
        // Joined WebSockets are no longer the server's connections: closed here (clients reconnect elsewhere).
        upgrades.closeAll();
        // A keep-alive connection that goes idle while we drain is closed at once, not after its timeout.
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        const deadline = setTimeout(() => {
          clearInterval(sweep);
          server.closeAllConnections();
          resolve('forced');
        }, graceMs);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve('drained');
        });
        server.closeIdleConnections();
      });
      return stopping;
    },
  };
}

/**
 * The container's entry: validate the environment (exit 1 naming each bad variable), listen, and
 * on SIGTERM or SIGINT stop gracefully (exit 0 once drained, 1 if the grace period ran out; a
 * second signal exits at once).
 */
export async function runServer(env: Record<string, string | undefined> = process.env): Promise<ServerHandle> {
  let config: BffConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const running = await startServer(config);
  const { logger } = running;
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (signals++ > 0) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal, graceMs: SHUTDOWN_GRACE_MS }, 'shutting down: no new connections, finishing requests in flight');
    void running.shutdown().then(async (result) => {
      if (result === 'drained') logger.info({ result }, 'latch-bff stopped');
      else logger.warn({ result }, 'latch-bff stopped: requests still in flight were cut');
      logger.flush();
      // LATCH_TRACING=true: the SDK's batched spans go out before the process does: 2 s at most, or
      // 0.5 s after a forced stop (9 s of grace), which keeps it under the 10 s before SIGKILL.
      await running.app.latch.tracing?.flush(result === 'drained' ? 2000 : 500);
      process.exit(result === 'drained' ? 0 : 1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return running;
}

/** Set by scripts/build-bff.ts to the entry a bundle was built for (server, lambda, cli). */
declare const __LATCH_ENTRY__: string | undefined;

/**
 * True only when node was started on this very module: `node dist/bff/server.js` (the server
 * bundle) or `tsx bff/server.ts`. Importing it, or bundling it into the cli or someone else's
 * server.js, starts nothing.
 */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  const built = typeof __LATCH_ENTRY__ === 'string';
  if (built ? __LATCH_ENTRY__ !== 'server' : !/[\\/]bff[\\/]server\.ts$/.test(entry)) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runServer().catch((err: unknown) => {
    process.stderr.write(`latch-bff failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

import { createServer, type Server } from 'node:http';
import { createBff } from './app.ts';
import { loadConfig, type BffConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createLogger } from './logger.ts';

/** Starts the BFF on 127.0.0.1 (or LATCH_HOST) and PORT. Resolves once listening. */
export async function startServer(config: BffConfig, host = process.env['LATCH_HOST'] ?? '127.0.0.1'): Promise<Server> {
  const logger = createLogger(config.logLevel);
  const app = createBff(config, { logger });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(config.port, host, resolve));
  logger.info({ port: config.port, host }, 'latch-bff listening');
  return server;
}

async function main() {
  let config: BffConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const server = await startServer(config);
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void main();
}

/**
 * The BFF routed through @koa/router, as the product was first specified (bench/lib/koa-router.ts):
 * createBff's app with its route table swapped for @koa/router, served like server.js serves the BFF.
 * Bundled by the bench like the BFF's own server.js (bench/lib/build.ts: esbuild, no keepNames
 * wrappers), so the two differ by their router alone.
 *
 * Environment: the BFF's own (LATCH_*), PORT. Listens on 127.0.0.1:$PORT.
 */
import { createServer } from 'node:http';
import { createBff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { serverOptions } from '../../bff/middleware/limits.ts';
import { routeThroughKoaRouter } from '../lib/koa-router.ts';

const config = loadConfig(process.env);
const app = routeThroughKoaRouter(createBff(config));
createServer({ ...serverOptions(config), keepAliveTimeout: 65_000 }, app.callback()).listen(config.port, '127.0.0.1');

// Stopped by the bench with SIGTERM: exit at once (and write a --cpu-prof profile when asked for one).
process.once('SIGTERM', () => process.exit(0));

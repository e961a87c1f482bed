/**
 * The BFF routed through @koa/router, as the product was first specified: the BFF exactly as createBff
 * builds it (configuration, edge, session manager, provider, every route with the same deps), except
 * that its last middleware, the route table (bff/routes/table.ts), is replaced by a @koa/router
 * instance on which the same route functions registered the same handlers (`routes()` and
 * `allowedMethods()`). Bundled by the bench like the BFF's own server.js (bench/lib/build.ts: esbuild,
 * no keepNames wrappers), so the two differ by their router alone. No change to bff/ is needed:
 * createBff exposes its deps as `app.latch`, and each route function takes any object with
 * get/post/all.
 *
 * The edge still asks the route table which routes are rate limited (`lookup`): that table is built
 * by createBff whatever routes the requests, and the check is the same in both.
 *
 * Environment: the BFF's own (LATCH_*), PORT. Listens on 127.0.0.1:$PORT.
 */
import { createServer } from 'node:http';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { createBff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { serverOptions } from '../../bff/middleware/limits.ts';
import { backchannelRoute } from '../../bff/routes/backchannel.ts';
import { callbackRoute } from '../../bff/routes/callback.ts';
import type { RouteDeps } from '../../bff/routes/deps.ts';
import { handoffRoute } from '../../bff/routes/handoff.ts';
import { healthRoute } from '../../bff/routes/health.ts';
import { loginRoute } from '../../bff/routes/login.ts';
import { logoutEndRoute } from '../../bff/routes/logout-end.ts';
import { logoutRoute } from '../../bff/routes/logout.ts';
import { meRoute } from '../../bff/routes/me.ts';
import { metricsRoute } from '../../bff/routes/metrics.ts';
import { passwordRoute } from '../../bff/routes/password.ts';
import { proxyRoute } from '../../bff/routes/proxy.ts';
import { readyRoute } from '../../bff/routes/ready.ts';
import type { RoutePath, RouteTable, RouteTraits } from '../../bff/routes/table.ts';
import { widgetAssetRoute } from '../../bff/routes/widget-asset.ts';

/** The routes createBff registers (bff/app.ts), in its order. */
const ROUTES: Array<(router: RouteTable, deps: RouteDeps) => void> = [
  loginRoute, callbackRoute, meRoute, logoutRoute, logoutEndRoute, handoffRoute, healthRoute, backchannelRoute, passwordRoute, readyRoute, metricsRoute, widgetAssetRoute, proxyRoute,
];

const config = loadConfig(process.env);
if (config.metrics || config.tracing) throw new Error('bff-koa-router: run it without LATCH_METRICS and LATCH_TRACING (their middleware would sit where the router is swapped)');
const app = createBff(config);

type Handlers = [RouteTraits, ...Middleware[]] | Middleware[];
const router = new Router();
/** The route table's registration API on @koa/router: a leading traits object is dropped (the edge reads it from createBff's own table). */
const handlers = (args: Handlers): Middleware[] => (typeof args[0] === 'function' ? args : args.slice(1)) as Middleware[];
const onKoaRouter = {
  get(path: RoutePath, ...args: Handlers) {
    router.get(path, ...handlers(args));
    return onKoaRouter;
  },
  post(path: RoutePath, ...args: Handlers) {
    router.post(path, ...handlers(args));
    return onKoaRouter;
  },
  all(path: RoutePath, ...args: Handlers) {
    router.all(path, ...handlers(args));
    return onKoaRouter;
  },
};
for (const route of ROUTES) route(onKoaRouter as unknown as RouteTable, app.latch);

// createBff's middleware is [edge, route table] without metrics and tracing: swap the table.
if (app.middleware.length !== 2) throw new Error(`bff-koa-router: createBff built ${app.middleware.length} middleware, expected 2 (edge, routes)`);
app.middleware.splice(1, 1, router.routes() as Middleware, router.allowedMethods() as Middleware);

createServer({ ...serverOptions(config), keepAliveTimeout: 65_000 }, app.callback()).listen(config.port, '127.0.0.1');

// Stopped by the bench with SIGTERM: exit at once (and write a --cpu-prof profile when asked for one).
process.once('SIGTERM', () => process.exit(0));

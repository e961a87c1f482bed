import type Router from '@koa/router';
import type { RouteDeps } from './deps.ts';

/** GET /healthz: liveness, no dependencies. */
export function healthRoute(router: Router, _deps: RouteDeps) {
  router.get('/healthz', (ctx) => {
    ctx.body = { ok: true };
  });
}

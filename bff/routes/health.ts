import type { RouteTable } from './table.ts';
import type { RouteDeps } from './deps.ts';

/** GET /healthz: liveness, no dependencies. */
export function healthRoute(router: RouteTable, _deps: RouteDeps) {
  router.get('/healthz', (ctx) => {
    ctx.body = { ok: true };
  });
}

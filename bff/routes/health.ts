import type { RouteTable } from './table.ts';
import type { RouteDeps } from './deps.ts';

/** Where liveness is asked (`latch-bff --healthcheck` asks it too). */
export const HEALTH_PATH = '/healthz';

/** GET /healthz: liveness, no dependencies; answered on any host (a probe reaches a pod by its address). */
export function healthRoute(router: RouteTable, _deps: RouteDeps) {
  router.get(HEALTH_PATH, { anyHost: true }, (ctx) => {
    ctx.body = { ok: true };
  });
}

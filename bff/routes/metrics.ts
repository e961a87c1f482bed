import type { RouteTable } from './table.ts';
import type { RouteDeps } from './deps.ts';

/** Where the metrics are scraped (`latch-bff --check-config` shows it). */
export const METRICS_PATH = '/metrics';

/**
 * GET /metrics: Prometheus text format, only when LATCH_METRICS=true (otherwise the route does not
 * exist and the answer is 404 LATCH_NOT_FOUND). Keep it off the public internet: scrape it on the
 * pod's address (it is answered on any host), or have the edge refuse /metrics.
 */
export function metricsRoute(router: RouteTable, deps: RouteDeps) {
  const metrics = deps.metrics;
  if (!metrics) return;
  router.get(METRICS_PATH, { anyHost: true }, async (ctx) => {
    const registry = await metrics.registry();
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
}

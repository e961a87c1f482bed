import type { RouteTable } from './table.ts';
import type { ProvidersResponse } from '../contract.ts';
import type { Site } from '../sites.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';

/**
 * GET /providers: the providers the request's site offers, in configured order (the site's own order
 * when LATCH_SITES names them), each `{ name, label, icon? }` (LATCH_PROVIDER_<NAME>_LABEL, _ICON):
 * what the widget's chooser lists, and `/login?provider=<name>` accepts. No session, no CSRF (a read
 * of configuration); CORS for the site's allowed origins like every route. With one provider, one
 * entry (`default` for the single-provider variables).
 *
 * Cacheable privately for 60 s: it changes only with the configuration, and a page that opens the
 * chooser twice need not ask twice. Private, because it is per site, and a shared cache keyed on the
 * URL alone would serve one host's list to another's (Vary: Origin is set by CORS besides).
 */
export function providersRoute(router: RouteTable, deps: RouteDeps) {
  const answers = new WeakMap<Site, string>();
  router.get('/providers', (ctx) => {
    const site = siteOf(ctx);
    let text = answers.get(site);
    if (text === undefined) {
      const body: ProvidersResponse = {
        providers: deps.providers.offeredBy(site).map((p) => ({ name: p.name, label: p.label, ...(p.icon ? { icon: p.icon } : {}) })),
      };
      answers.set(site, (text = JSON.stringify(body)));
    }
    ctx.set('Cache-Control', 'private, max-age=60');
    ctx.set('Content-Type', 'application/json; charset=utf-8');
    ctx.body = text;
  });
}

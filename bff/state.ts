/**
 * What the BFF keeps on Koa's `ctx.state` for one request, declared once for every file (module
 * augmentation of Koa's `DefaultState`). Each field has one writer.
 */
import type { RouteInfo } from './routes/table.ts';
import type { Site } from './sites.ts';

declare module 'koa' {
  interface DefaultState {
    /** The request's site: set by siteResolver (sites.ts), before every route; read through siteOf(). */
    latchSite?: Site;
    /**
     * The route the request reaches by its path (a site's mount removed) and method, or null for
     * none: found once by RouteTable.route(), for the edge's checks and the table alike.
     */
    latchRoute?: RouteInfo | null;
    /** The route that ran, or refused the method (405): set by the route table, for the metrics. */
    latchMatched?: RouteInfo;
    /** A route completed a sign-in (routes/flows.ts signIn()): the metrics' login count. */
    latchSignedIn?: boolean;
  }
}

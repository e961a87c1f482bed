import { parseAcrValues, parseMaxAge } from '../oauth/step-up.ts';
import type { EnvReader } from './env.ts';

/** One upstream API behind the proxy: `/api/<name>/<path>` goes to `<upstream>/<path>`. */
export interface ApiRoute {
  /** Lower-case letters, digits and dashes; the env suffix is its upper-case form with `_` for `-`. */
  readonly name: string;
  /** Base URL, without a trailing slash, query or fragment. */
  readonly upstream: string;
  /** `user`: the signed-in user's access token (default). `service`: a client-credentials token. */
  readonly token: 'user' | 'service';
  /** Space-separated scopes: asked for at sign-in (user), or in the client-credentials request (service). */
  readonly scope?: string;
  /**
   * The API's audience (an RFC 8707 resource indicator). Service routes: of the client-credentials
   * request. User routes: the proxy sends a token for this audience alone (oauth/audience.ts).
   */
  readonly audience?: string;
  /**
   * User routes with an audience, LATCH_API_ROUTE_<NAME>_TOKEN_EXCHANGE: how that token is got.
   * `rfc8707` (default): a refresh-token grant with `resource` (the audience is asked for at sign-in
   * too); `rfc8693`: a token exchange of the user's access token (docs/api.md, "A token per API").
   */
  readonly exchange?: 'rfc8707' | 'rfc8693';
  /** LATCH_API_ROUTE_<NAME>_ACR: the session's `acr` must be one of these (step-up, oauth/step-up.ts). */
  readonly acr?: readonly string[];
  /** LATCH_API_ROUTE_<NAME>_MAX_AGE: seconds; the session's sign-in (`auth_time`) must be at most this old. */
  readonly maxAge?: number;
}

/** The upstream APIs the proxy serves (README: "API proxy"). */
export interface ApiRoutesSection {
  /** LATCH_API_ROUTES: the upstream APIs the proxy serves at /api/<name>/... */
  readonly apiRoutes: readonly ApiRoute[];
  /** LATCH_API_TIMEOUT_MS: an upstream API call fails with 504 after this long without progress. */
  readonly apiTimeoutMs: number;
}

const ROUTE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The API routes section: LATCH_API_ROUTES=orders=https://api.example.com/orders,profile=https://profile.example.com/v1
 * with optional per-route LATCH_API_ROUTE_<NAME>_TOKEN (user|service), _SCOPE and _AUDIENCE, and
 * LATCH_API_TIMEOUT_MS. A route with a problem is left out (and the problem reported).
 */
export function readApiRoutes(env: EnvReader): ApiRoutesSection {
  const routes: ApiRoute[] = [];
  for (const item of env.list('LATCH_API_ROUTES')) {
    const eq = item.indexOf('=');
    const name = eq > 0 ? item.slice(0, eq).trim() : '';
    const target = eq > 0 ? item.slice(eq + 1).trim() : '';
    if (!ROUTE_NAME.test(name) || !target) {
      env.fail('LATCH_API_ROUTES', `"${item}" must be name=https://upstream/base, the name in lower-case letters, digits and dashes`);
      continue;
    }
    if (routes.some((r) => r.name === name)) {
      env.fail('LATCH_API_ROUTES', `names "${name}" twice`);
      continue;
    }
    const upstream = env.url('LATCH_API_ROUTES', target);
    if (!upstream) continue;
    if (upstream.search || upstream.hash || upstream.username || upstream.password || target.includes('?') || target.includes('#')) {
      env.fail('LATCH_API_ROUTES', `"${name}" must be a base URL without query, fragment or credentials`);
      continue;
    }
    const settings = readRouteSettings(env.under(`LATCH_API_ROUTE_${name.toUpperCase().replaceAll('-', '_')}_`));
    if (settings) routes.push({ name, upstream: upstream.href.replace(/\/+$/, ''), ...settings });
  }
  return { apiRoutes: routes, apiTimeoutMs: env.int('LATCH_API_TIMEOUT_MS', 30_000, 100, 600_000) };
}

/** One route's LATCH_API_ROUTE_<NAME>_* (`route` reads under that prefix); undefined when one is wrong. */
function readRouteSettings(route: EnvReader): Pick<ApiRoute, 'token' | 'scope' | 'audience' | 'exchange' | 'acr' | 'maxAge'> | undefined {
  const token = route.choice('TOKEN', ['user', 'service'], 'user');
  if (token === undefined) return undefined;
  const scope = route.str('SCOPE')?.split(/\s+/).join(' ');
  const audience = route.str('AUDIENCE');
  if (audience !== undefined) {
    try {
      new URL(audience);
    } catch {
      route.fail('AUDIENCE', `must be an absolute URI (an RFC 8707 resource indicator), got "${audience}"`);
      return undefined;
    }
  }
  const rawExchange = route.str('TOKEN_EXCHANGE');
  if (rawExchange !== undefined && (token !== 'user' || audience === undefined)) {
    route.fail('TOKEN_EXCHANGE', 'applies to user-token routes with an _AUDIENCE only');
    return undefined;
  }
  const exchange = token === 'user' && audience !== undefined ? route.choice('TOKEN_EXCHANGE', ['rfc8707', 'rfc8693'], 'rfc8707') : undefined;
  if (token === 'user' && audience !== undefined && exchange === undefined) return undefined;
  const stepUp = readStepUp(route, token);
  if (!stepUp) return undefined;
  return { token, ...(scope ? { scope } : {}), ...(audience ? { audience } : {}), ...(exchange ? { exchange } : {}), ...stepUp };
}

/** _ACR (comma- or space-separated acr values) and _MAX_AGE (seconds): user-token routes only (a service token has no sign-in). */
function readStepUp(route: EnvReader, token: 'user' | 'service'): Pick<ApiRoute, 'acr' | 'maxAge'> | undefined {
  const rawAcr = route.str('ACR');
  const rawMaxAge = route.str('MAX_AGE');
  if ((rawAcr !== undefined || rawMaxAge !== undefined) && token === 'service') {
    route.fail(rawAcr !== undefined ? 'ACR' : 'MAX_AGE', 'applies to user-token routes only: a service token has no sign-in to step up');
    return undefined;
  }
  const acr = rawAcr === undefined ? undefined : parseAcrValues(rawAcr);
  if (acr === null) {
    route.fail('ACR', 'must list 1 to 8 acr values, comma- or space-separated, of printable characters without quotes or backslashes');
    return undefined;
  }
  const maxAge = rawMaxAge === undefined ? undefined : parseMaxAge(rawMaxAge);
  if (maxAge === null) {
    route.fail('MAX_AGE', `must be whole seconds (at most ten years), got "${rawMaxAge}"`);
    return undefined;
  }
  return { ...(acr ? { acr } : {}), ...(maxAge !== undefined ? { maxAge } : {}) };
}

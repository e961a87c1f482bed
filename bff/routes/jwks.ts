import type { RouteTable } from './table.ts';
import { clientKeysFor } from '../oauth/client-keys.ts';
import type { RouteDeps } from './deps.ts';

/** Where the BFF publishes its public keys (a provider's `jwks_uri` for this client). */
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * GET /.well-known/jwks.json: the public halves of LATCH_CLIENT_PRIVATE_KEY's keys (private_key_jwt),
 * `{ "keys": [...] }`, each with its kid, alg and `use: sig`, for authorization servers that fetch the
 * client's keys rather than hold a copy. Only with LATCH_TOKEN_AUTH_METHOD=private_key_jwt (otherwise
 * the route does not exist: 404 LATCH_NOT_FOUND). Answered on any host (the server fetches it from
 * wherever it is); cacheable for 5 minutes, so a key rotated in is seen within that (list the old key
 * second until then).
 */
export function jwksRoute(router: RouteTable, deps: RouteDeps) {
  const keys = clientKeysFor(deps.config.clientKeys);
  if (!keys) return;
  router.get(JWKS_PATH, { anyHost: true }, async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/jwk-set+json';
    ctx.body = JSON.stringify(await keys.jwks());
  });
}

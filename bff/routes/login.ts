import type { RouteTable } from './table.ts';
import { LatchError } from '../errors.ts';
import { newTransactionSecrets } from '../oauth/secrets.ts';
import type { LoginTransaction } from '../providers/provider.ts';
import { safeRedirect } from '../redirects.ts';
import { CHALLENGE } from '../session/handoff.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';

/** Authorization parameters a page may pass through /login, and their allowed values (null: any). */
const FORWARDED: Record<string, readonly string[] | null> = {
  prompt: ['login', 'create', 'select_account', 'none', 'consent'],
  login_hint: null,
  organization_id: null,
  connection_id: null,
};

const MAX_PARAM_LENGTH = 256;

/**
 * The longest `returnTo` a transaction cookie carries, characters: its cookie is then about 2 KB (a
 * 2,048-character one made it 3.3 KB, and six of them answered every route 431). A longer one loses
 * its query and fragment, then its path: the user comes back to a less precise page of the same site.
 */
export const MAX_RETURN_TO_LENGTH = 1024;

/** `url` (already an allowed, absolute URL) cut to MAX_RETURN_TO_LENGTH characters as above. */
export function boundReturnTo(url: string): string {
  if (url.length <= MAX_RETURN_TO_LENGTH) return url;
  const parsed = new URL(url);
  const path = `${parsed.origin}${parsed.pathname}`;
  return path.length <= MAX_RETURN_TO_LENGTH ? path : `${parsed.origin}/`;
}

/**
 * GET /login?returnTo=URL: starts a sign-in with PKCE (S256), state and nonce, for the request's
 * site (its redirect URI, allowed origins and cookies). `mode=popup`: the callback answers with a
 * page that messages the opener. `proof=1`: the callback hands the page a one-time sign-in proof
 * (detecting blocked third-party cookies). `handoff=<S256 challenge>` (LATCH_HANDOFF): a popup
 * sign-in that ends in a hand-off code for `POST /handoff` rather than a cookie (docs/embedding.md).
 */
export function loginRoute(router: RouteTable, deps: RouteDeps) {
  router.get('/login', { navigation: true, rateLimited: true }, async (ctx) => {
    const site = siteOf(ctx);
    const query = new URLSearchParams(ctx.querystring);
    const returnTo = boundReturnTo(safeRedirect(query.get('returnTo'), site.allowedOrigins));
    const handoff = query.get('handoff');
    if (handoff !== null) {
      if (!deps.config.handoff) throw new LatchError('LATCH_HANDOFF_DISABLED');
      if (!CHALLENGE.test(handoff)) throw new LatchError('LATCH_BAD_REQUEST', { detail: 'The hand-off challenge must be an S256 code challenge.' });
    }
    const tx: LoginTransaction = {
      ...newTransactionSecrets(),
      returnTo,
      // A hand-off is always a popup: its code is posted to the opener.
      mode: query.get('mode') === 'popup' || handoff !== null ? 'popup' : 'redirect',
      createdAt: Date.now(),
      ...(site.redirectUri !== deps.config.redirectUri ? { redirectUri: site.redirectUri } : {}),
      ...(query.get('proof') === '1' ? { proof: true as const } : {}),
      ...(handoff !== null ? { handoff } : {}),
    };
    const params: Record<string, string> = {};
    for (const [name, allowedValues] of Object.entries(FORWARDED)) {
      const value = query.get(name);
      if (value === null || value === '' || value.length > MAX_PARAM_LENGTH) continue;
      if (allowedValues && !allowedValues.includes(value)) continue;
      params[name] = value;
    }
    // The deployer's additions (LATCH_AUTHORIZE_PARAMS): names forwarded with any value, then fixed values.
    for (const name of deps.config.authorizeParams) {
      const value = query.get(name);
      if (name in FORWARDED || value === null || value === '' || value.length > MAX_PARAM_LENGTH) continue;
      params[name] = value;
    }
    Object.assign(params, deps.config.authorizeFixedParams);
    const url = await deps.provider.authorizationUrl(tx, params);
    // At most MAX_TRANSACTIONS sign-ins in flight: the oldest of the browser's others are dropped.
    ctx.append('Set-Cookie', await site.cookies.writeTransaction(tx, ctx.get('Cookie')));
    ctx.redirect(url.href);
  });
}

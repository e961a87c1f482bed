import type Router from '@koa/router';
import { newTransactionSecrets } from '../oauth/secrets.ts';
import type { LoginTransaction } from '../providers/provider.ts';
import { safeRedirect } from '../redirects.ts';
import type { RouteDeps } from './deps.ts';

/** Authorization parameters a page may pass through /login, and their allowed values (null: any). */
const FORWARDED: Record<string, readonly string[] | null> = {
  prompt: ['login', 'create', 'select_account', 'none', 'consent'],
  login_hint: null,
  organization_id: null,
  connection_id: null,
};

const MAX_PARAM_LENGTH = 256;

/** GET /login?returnTo=URL: starts a sign-in with PKCE (S256), state and nonce. */
export function loginRoute(router: Router, deps: RouteDeps) {
  router.get('/login', async (ctx) => {
    const query = new URLSearchParams(ctx.querystring);
    const returnTo = safeRedirect(query.get('returnTo'), deps.config.allowedOrigins);
    const tx: LoginTransaction = {
      ...newTransactionSecrets(),
      returnTo,
      mode: query.get('mode') === 'popup' ? 'popup' : 'redirect',
      createdAt: Date.now(),
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
    ctx.append('Set-Cookie', await deps.sessions.writeTransaction(tx));
    ctx.redirect(url.href);
  });
}

import type { Context, Next } from 'koa';
import {
  AccessTokenError,
  createAccessTokenVerifier,
  readBearerToken,
  type AccessTokenOptions,
  type VerifiedAccessToken,
} from './verify.ts';

export interface RequireTokenOptions extends AccessTokenOptions {
  /** The `realm` of the WWW-Authenticate challenge. */
  realm?: string;
  /** Called with each refusal (for logs and metrics); `error.reason` says why. */
  onRefused?: (error: AccessTokenError, ctx: Context) => void;
}

/** What requireToken leaves in `ctx.state` for the handlers after it. */
export interface AccessTokenState {
  accessToken: VerifiedAccessToken;
}

/**
 * Koa middleware for an API that Latch (or any OAuth client) calls with a JWT access token:
 *
 *   router.get('/orders', requireToken({ issuer, audience: 'https://api.example.com', scopes: ['orders:read'] }), handler)
 *
 * The token comes from `Authorization: Bearer` only. Refusals answer as RFC 6750 says: 401
 * invalid_token (or invalid_request for a token in the query), 403 insufficient_scope, each with a
 * WWW-Authenticate challenge and a JSON body `{ error, error_description }`; 503 when the signing keys
 * cannot be loaded (fail closed). On success `ctx.state.accessToken` holds the claims and scopes.
 */
export function requireToken(options: RequireTokenOptions) {
  const verify = createAccessTokenVerifier(options);
  return async function requireAccessToken(ctx: Context, next: Next) {
    try {
      const token = readBearerToken(ctx.get('Authorization') || undefined, ctx.querystring);
      (ctx.state as AccessTokenState).accessToken = await verify(token);
    } catch (err) {
      if (!(err instanceof AccessTokenError)) throw err;
      options.onRefused?.(err, ctx);
      ctx.status = err.status;
      const challenge = err.challenge(options.realm);
      if (challenge) ctx.set('WWW-Authenticate', challenge);
      if (err.status === 503) ctx.set('Retry-After', '30');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: err.code, error_description: err.description };
      return;
    }
    await next();
  };
}

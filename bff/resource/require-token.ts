import type { Context, Next } from 'koa';
import {
  AccessTokenError,
  createAccessTokenVerifier,
  readAccessToken,
  type AccessTokenOptions,
  type VerifiedAccessToken,
} from './verify.ts';

export interface RequireTokenOptions extends AccessTokenOptions {
  /** The `realm` of the WWW-Authenticate challenge. */
  realm?: string;
  /**
   * The origin clients reach this API at, for the DPoP proof's `htu` (e.g. `https://api.example.com`
   * behind a proxy that rewrites Host). default: the request's own (`ctx.protocol` and `ctx.host`,
   * which follow X-Forwarded-Proto and -Host only when the Koa app trusts its proxy).
   */
  publicOrigin?: string;
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
 * The token comes from `Authorization: Bearer`, or `Authorization: DPoP` with a `DPoP` proof header
 * (RFC 9449; bff/resource/dpop.ts checks the proof). A DPoP-bound token presented as Bearer is always
 * refused. Refusals answer as RFC 6750 and RFC 9449 say: 401 invalid_token (or invalid_request for a
 * token in the query, invalid_dpop_proof for a bad proof), 403 insufficient_scope, each with a
 * WWW-Authenticate challenge (`DPoP ... algs="..."` for DPoP) and a JSON body `{ error,
 * error_description }`; 503 when the signing keys cannot be loaded (fail closed). On success
 * `ctx.state.accessToken` holds the claims and scopes.
 */
export function requireToken(options: RequireTokenOptions) {
  const verify = createAccessTokenVerifier(options);
  return async function requireAccessToken(ctx: Context, next: Next) {
    try {
      const { token, scheme } = readAccessToken(ctx.get('Authorization') || undefined, ctx.querystring);
      const proofs = ctx.req.headersDistinct['dpop'];
      const dpop = scheme === 'DPoP'
        ? { proof: proofs?.length === 1 ? proofs[0] : proofs, method: ctx.method, url: `${options.publicOrigin ?? `${ctx.protocol}://${ctx.host}`}${ctx.path}` }
        : undefined;
      (ctx.state as AccessTokenState).accessToken = await verify(token, dpop);
    } catch (err) {
      if (!(err instanceof AccessTokenError)) throw err;
      options.onRefused?.(err, ctx);
      ctx.status = err.status;
      const challenge = err.challenge(options.realm, verify.dpopAlgorithms, verify.dpopRequired);
      if (challenge) ctx.set('WWW-Authenticate', challenge);
      if (err.status === 503) ctx.set('Retry-After', '30');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: err.code, error_description: err.description };
      return;
    }
    await next();
  };
}

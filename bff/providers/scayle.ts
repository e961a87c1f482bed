import { createHash, timingSafeEqual } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import type { LatchUser } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { outbound, refusedGrant, type OutboundOptions } from '../oauth/outbound.ts';
import { CallbackError } from './oidc.ts';
import {
  pickUserClaims,
  type LoginTransaction,
  type Provider,
  type RefreshResult,
  type SignInResult,
  type TokenSet,
} from './provider.ts';

export interface ScayleProviderOptions {
  /** e.g. https://tenant.auth.scayle.cloud (no trailing slash). */
  baseUrl: string;
  shopId: string;
  /** Signs the redirect JWTs (HS256). */
  shopSecret: string;
  /** The identity provider configured at SCAYLE. */
  idpKey: string;
  clientId: string;
  clientSecret: string;
  /** The BFF's /callback: the `callbackUrl` of the login JWT. */
  redirectUri: string;
  outbound: OutboundOptions;
}

/**
 * The claim of the login JWT that carries this browser's transaction (its `state`) through
 * SCAYLE and back: SCAYLE returns the whole payload, base64-encoded, as the callback's `state`.
 */
export const SCAYLE_TX_CLAIM = 'latchState';

/** Lifetime of the redirect JWTs, seconds (the document's 15 minutes). */
const REDIRECT_JWT_TTL_S = 15 * 60;
const MAX_STATE_LENGTH = 8 * 1024;
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** Claims of SCAYLE's access token that mean nothing to a page. */
const TOKEN_CLAIMS = new Set(['scope', 'scopes', 'client_id', 'token_type', 'typ', 'shop_id', 'shopId']);

type TokenGrant = { grant_type: 'authorization_code'; code: string } | { grant_type: 'refresh_token'; refresh_token: string };

/**
 * SCAYLE's Authentication API (LATCH_PROVIDER=scayle), a non-standard flow:
 * - login: redirect to `{base}/v1/auth/external/redirect?shopId&jwt`, the JWT (HS256, shop
 *   secret) carrying callbackUrl, idpKey, clientId, iat, exp and our transaction state;
 * - callback: `code` plus `state` = base64 JSON of that payload, checked against the transaction;
 * - tokens: POST `{base}/v1/oauth/token` with a JSON body and HTTP Basic client authentication,
 *   for both the authorization_code and the refresh_token grant;
 * - the user: the claims of the access token, a JWT received straight from the token endpoint;
 * - logout: redirect to `{base}/v1/auth/logout/redirect?shopId&jwt`, the JWT carrying
 *   callbackUrl and tokenId (the access token's `jti`); SCAYLE revokes both tokens there.
 */
export class ScayleProvider implements Provider {
  readonly kind = 'scayle';
  readonly #options: ScayleProviderOptions;
  readonly #key: Uint8Array;
  readonly #basic: string;

  constructor(options: ScayleProviderOptions) {
    this.#options = options;
    this.#key = new TextEncoder().encode(options.shopSecret);
    // As SCAYLE documents it: base64 of "client_id:client_secret", without form-encoding.
    this.#basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
  }

  async ready(): Promise<void> {
    // Nothing to discover: the endpoints are fixed paths under the base URL.
  }

  async authorizationUrl(tx: LoginTransaction, _params: Record<string, string>): Promise<URL> {
    const { baseUrl, shopId, idpKey, clientId } = this.#options;
    const redirectUri = tx.redirectUri ?? this.#options.redirectUri;
    const jwt = await this.#sign({ callbackUrl: redirectUri, idpKey, clientId, [SCAYLE_TX_CLAIM]: tx.state });
    const url = new URL(`${baseUrl}/v1/auth/external/redirect`);
    url.searchParams.set('shopId', shopId);
    url.searchParams.set('jwt', jwt);
    return url;
  }

  /** The transaction state a callback claims, read from SCAYLE's base64-JSON `state`; null when it has none. */
  callbackState(callback: URL): string | null {
    const states = callback.searchParams.getAll('state');
    if (states.length !== 1) return null;
    const claimed = decodeState(states[0]!)?.[SCAYLE_TX_CLAIM];
    return typeof claimed === 'string' && claimed !== '' ? claimed : null;
  }

  async handleCallback(callback: URL, tx: LoginTransaction): Promise<SignInResult> {
    const params = callback.searchParams;
    for (const name of ['state', 'code', 'error']) {
      if (params.getAll(name).length > 1) {
        throw new LatchError('LATCH_CALLBACK_INVALID', { detail: `The callback repeats the "${name}" parameter.` });
      }
    }
    const payload = decodeState(params.get('state') ?? '');
    if (!payload) throw new LatchError('LATCH_CALLBACK_INVALID', { detail: 'The sign-in response carries no readable state.' });
    const { clientId, idpKey } = this.#options;
    const redirectUri = tx.redirectUri ?? this.#options.redirectUri;
    const claimed = payload[SCAYLE_TX_CLAIM];
    if (
      typeof claimed !== 'string' || !sameSecret(claimed, tx.state) ||
      payload['callbackUrl'] !== redirectUri || payload['clientId'] !== clientId || payload['idpKey'] !== idpKey
    ) {
      throw new LatchError('LATCH_STATE_MISMATCH', { detail: 'The callback\'s state is not the transaction\'s.' });
    }
    const error = params.get('error');
    if (error !== null) throw new CallbackError(/^[a-z_]{1,64}$/.test(error) ? error : 'server_error');
    const code = params.get('code');
    if (!code) throw new LatchError('LATCH_CALLBACK_INVALID', { detail: 'The sign-in response carries no code.' });

    const { tokens, claims } = await this.#token({ grant_type: 'authorization_code', code }, 'code exchange');
    return { tokens, user: userFrom(claims) };
  }

  async refresh(refreshToken: string, expectedSub: string): Promise<RefreshResult> {
    const { tokens, claims } = await this.#token({ grant_type: 'refresh_token', refresh_token: refreshToken }, 'refresh');
    const user = userFrom(claims);
    if (user.sub !== expectedSub) {
      throw new LatchError('LATCH_REFRESH_FAILED', { detail: 'The refreshed access token names another user.' });
    }
    tokens.refreshToken ??= refreshToken;
    return { tokens, user };
  }

  async userinfo(accessToken: string, expectedSub: string): Promise<LatchUser> {
    const user = userFrom(accessTokenClaims(accessToken, 'LATCH_UPSTREAM_ERROR'));
    if (expectedSub !== undefined && user.sub !== expectedSub) {
      throw new LatchError('LATCH_USERINFO_INVALID', { detail: 'The access token names another user.' });
    }
    return user;
  }

  async logoutUrl(tokens: Pick<TokenSet, 'idToken' | 'accessToken'>, postLogoutRedirectUri: string): Promise<string | null> {
    let tokenId: unknown;
    try {
      tokenId = decodeJwt(tokens.accessToken).jti;
    } catch {
      return null;
    }
    if (typeof tokenId !== 'string' || tokenId === '') return null;
    const jwt = await this.#sign({ callbackUrl: postLogoutRedirectUri, tokenId });
    const url = new URL(`${this.#options.baseUrl}/v1/auth/logout/redirect`);
    url.searchParams.set('shopId', this.#options.shopId);
    url.searchParams.set('jwt', jwt);
    return url.href;
  }

  async revoke(_tokens: Pick<TokenSet, 'accessToken' | 'refreshToken'>): Promise<void> {
    // SCAYLE revokes the access and the refresh token when the browser follows logoutUrl().
  }

  #sign(claims: Record<string, unknown>): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(`${REDIRECT_JWT_TTL_S}s`)
      .sign(this.#key);
  }

  /** One token request: JSON body, HTTP Basic client authentication, the BFF's timeout and error codes. */
  async #token(grant: TokenGrant, what: 'code exchange' | 'refresh'): Promise<{ tokens: TokenSet; claims: Record<string, unknown> }> {
    const { timeoutMs } = this.#options.outbound;
    const body = await outbound(this.#options.outbound, what, async () => {
      const res = await fetch(`${this.#options.baseUrl}/v1/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Basic ${this.#basic}` },
        body: JSON.stringify(grant),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let json: Record<string, unknown> | undefined;
      if (/^application\/([\w.+-]+\+)?json\b/i.test(res.headers.get('content-type') ?? '') && text.length <= MAX_TOKEN_RESPONSE_BYTES) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
        } catch {
          // not JSON after all: handled below as an unusable answer
        }
      }
      if (res.status >= 400 && res.status < 500 && json) {
        // The server works and refused this request (a used code, a wrong client secret...).
        const reason = typeof json['error'] === 'string' ? json['error'] : String(res.status);
        // A refused client (wrong secret) is the deployment's fault: 502, and a refresh that fails so
        // does not end the user's session. A refused grant is about this user: 400.
        const clientRefused = res.status === 401 || reason === 'invalid_client';
        throw new LatchError(clientRefused ? 'LATCH_CLIENT_REFUSED' : refusedGrant(what), { detail: `The authorization server refused the ${what} request (${reason}).` });
      }
      if (!res.ok || !json) {
        throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: `The authorization server gave an unusable ${what} answer (${res.status}).` });
      }
      return json;
    });

    const accessToken = body['access_token'];
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: `The ${what} answer carries no access token.` });
    }
    const claims = accessTokenClaims(accessToken, 'LATCH_TOKEN_RESPONSE_INVALID');
    const expiresIn = body['expires_in'];
    const expiresAt = typeof expiresIn === 'number' && expiresIn > 0
      ? Date.now() + expiresIn * 1000
      : (claims['exp'] as number) * 1000;
    const refreshToken = body['refresh_token'];
    const tokens: TokenSet = {
      accessToken,
      expiresAt,
      ...(typeof refreshToken === 'string' && refreshToken ? { refreshToken } : {}),
    };
    return { tokens, claims };
  }
}

/**
 * The payload of SCAYLE's access token. It comes straight from the token endpoint over TLS
 * with client authentication, so it is read, not verified; it must be a JWT with a `jti`
 * (the logout needs it), a subject, and an expiry that has not passed. A token endpoint's answer
 * that fails this is LATCH_TOKEN_RESPONSE_INVALID (502: the session a refresh was for is kept).
 */
function accessTokenClaims(accessToken: string, code: 'LATCH_TOKEN_RESPONSE_INVALID' | 'LATCH_UPSTREAM_ERROR'): Record<string, unknown> {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(accessToken);
  } catch (err) {
    throw new LatchError(code, { detail: 'The access token is not a JWT.', cause: err });
  }
  const { jti, exp } = claims;
  if (typeof jti !== 'string' || jti === '' || typeof exp !== 'number' || subjectOf(claims) === undefined) {
    throw new LatchError(code, { detail: 'The access token lacks jti, sub or exp.' });
  }
  if (exp * 1000 <= Date.now() - 30_000) {
    throw new LatchError(code, { detail: 'The access token has already expired.' });
  }
  return claims;
}

function subjectOf(claims: Record<string, unknown>): string | undefined {
  const sub = claims['sub'];
  if (typeof sub === 'string' && sub !== '') return sub;
  if (typeof sub === 'number' && Number.isSafeInteger(sub)) return String(sub);
  return undefined;
}

function userFrom(claims: Record<string, unknown>): LatchUser {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(claims)) if (!TOKEN_CLAIMS.has(key)) kept[key] = value;
  return pickUserClaims({ ...kept, sub: subjectOf(claims) });
}

/** SCAYLE's `state`: base64 (either alphabet, padding optional) of a JSON object. Null for anything else. */
function decodeState(state: string): Record<string, unknown> | null {
  if (!state || state.length > MAX_STATE_LENGTH) return null;
  // A '+' that reached us unencoded was read as a space.
  const b64 = state.replaceAll(' ', '+');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Constant-time equality of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

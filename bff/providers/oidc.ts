import * as oauth from 'oauth4webapi';
import { jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { LatchUser } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { RemoteKeySet } from '../oauth/keys.ts';
import type { ClientKeys } from '../oauth/client-keys.ts';
import { assertTokenType, newDpopKey, withDpop, type DpopKey } from '../oauth/dpop.ts';
import { outbound, requestOptions, type OutboundOptions } from '../oauth/outbound.ts';
import { pushAuthorizationRequest } from '../oauth/par.ts';
import {
  pickUserClaims,
  RefreshKeptTokens,
  type LoginTransaction,
  type Provider,
  type RefreshResult,
  type SignInResult,
  type TokenEndpointAccess,
  type TokenSet,
  type VerifiedLogoutToken,
} from './provider.ts';

export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface OidcProviderOptions {
  issuer: string;
  /** Overrides the well-known URL derived from the issuer. */
  discoveryUrl?: string;
  /** Endpoints given by hand; with `discovery: false` they replace discovery entirely. */
  metadata?: Partial<oauth.AuthorizationServer>;
  discovery?: boolean;
  clientId: string;
  clientSecret: string;
  /** The client of the BFF's own client-credentials grants (tokenEndpoint()); default the main client. */
  serviceClientId?: string;
  serviceClientSecret?: string;
  tokenAuthMethod?: TokenAuthMethod;
  /** private_key_jwt: the BFF's signing keys (bff/oauth/client-keys.ts), for every call to the token endpoint. */
  clientKeys?: ClientKeys;
  redirectUri: string;
  scopes: string;
  /** The one algorithm accepted for ID token signatures (and logout tokens and signed userinfo). */
  idTokenAlg: string;
  /** Audiences besides the client an ID token may name (LATCH_TRUSTED_AUDIENCES). default none */
  trustedAudiences?: readonly string[];
  /** Plain OAuth 2.0: no ID token is required; the user comes from userinfo. */
  requireIdToken?: boolean;
  /** LATCH_PROFILE=fapi2: the callback must carry `iss` (RFC 9207) even where the server does not advertise it. */
  requireIss?: boolean;
  /** LATCH_PAR=true: /login pushes the authorization request (RFC 9126); also when discovery says the server requires it. */
  par?: boolean;
  /** LATCH_DPOP=true: each sign-in makes a session key, and every token request and userinfo call carries a proof (bff/oauth/dpop.ts). */
  dpop?: boolean;
  /** RFC 8707 resource indicators asked for at sign-in: the audiences of user routes got by refresh (oauth/audience.ts). */
  resources?: readonly string[];
  outbound: OutboundOptions;
}

/** A sign-in that the authorization server itself refused (`error=` on the callback). */
export class CallbackError extends LatchError {
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super('LATCH_CALLBACK_INVALID', { detail: `The authorization server refused the sign-in (${reason}).`, cause });
    this.reason = reason;
  }
}

const ACCESS_TOKEN_DEFAULT_TTL_S = 300;

/** Standard OpenID Connect (and OAuth 2.0 with RFC 8414 metadata) through oauth4webapi. */
export class OidcProvider implements Provider {
  readonly kind: string = 'oidc';
  protected readonly options: OidcProviderOptions;
  protected readonly client: oauth.Client;
  protected readonly clientAuth: oauth.ClientAuth;
  #metadata: Promise<oauth.AuthorizationServer> | undefined;
  #keys: RemoteKeySet | undefined;

  constructor(options: OidcProviderOptions) {
    this.options = options;
    this.client = { client_id: options.clientId, id_token_signed_response_alg: options.idTokenAlg };
    this.clientAuth = options.clientKeys
      ? options.clientKeys.clientAuth()
      : options.tokenAuthMethod === 'client_secret_post'
        ? oauth.ClientSecretPost(options.clientSecret)
        : oauth.ClientSecretBasic(options.clientSecret);
  }

  /** Discovery runs once; a failure is not cached, so the next request tries again. */
  protected metadata(): Promise<oauth.AuthorizationServer> {
    this.#metadata ??= this.loadMetadata().catch((err: unknown) => {
      this.#metadata = undefined;
      throw err;
    });
    return this.#metadata;
  }

  protected async loadMetadata(): Promise<oauth.AuthorizationServer> {
    const { options } = this;
    if (options.discovery === false) {
      return { issuer: options.issuer, ...options.metadata } as oauth.AuthorizationServer;
    }
    const issuer = new URL(options.issuer);
    const discovered = await outbound(options.outbound, 'discovery', async () => {
      const response = options.discoveryUrl
        ? await fetch(options.discoveryUrl, {
            headers: { accept: 'application/json' },
            redirect: 'manual',
            signal: AbortSignal.timeout(options.outbound.timeoutMs),
          })
        : await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(options.outbound) });
      return oauth.processDiscoveryResponse(issuer, response);
    });
    return { ...discovered, ...options.metadata };
  }

  /** The server's signing keys: refetched at once for a token no cached key verifies (oauth/keys.ts). */
  protected async keys(): Promise<RemoteKeySet> {
    const as = await this.metadata();
    if (!as.jwks_uri) throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The authorization server publishes no JWKS.' });
    const out = this.options.outbound;
    this.#keys ??= new RemoteKeySet(new URL(as.jwks_uri), {
      timeoutMs: out.timeoutMs,
      ...(out.observe ? { observe: (ms: number, ok: boolean) => out.observe!('jwks', ms, ok) } : {}),
    });
    return this.#keys;
  }

  /**
   * Metadata loaded, and a key set holding a key for the pinned algorithm. The set is fetched only
   * when it has never loaded, is past its maximum age or its last fetch failed: a probe never
   * refetches a good set (which would hide nothing and cost the server a request a probe).
   */
  async ready(): Promise<void> {
    await this.metadata();
    if (this.options.requireIdToken !== false) {
      const keys = await this.keys();
      await outbound(this.options.outbound, 'jwks', () => keys.ready(this.options.idTokenAlg));
    }
  }

  /** A JWT signed by the server, with the pinned algorithm, against its keys (refetched on a miss). */
  protected async verifyJwt(jwt: string, what: 'id token' | 'logout token' | 'userinfo', options: JWTVerifyOptions) {
    const keys = await this.keys();
    return outbound(this.options.outbound, what, () =>
      keys.verify((getKey) => jwtVerify(jwt, getKey, { algorithms: [this.options.idTokenAlg], clockTolerance: 30, ...options })),
    );
  }

  /**
   * OIDC Core 3.1.3.7: every audience but ours must be trusted (LATCH_TRUSTED_AUDIENCES); several
   * audiences need `azp`; `azp`, when present, must be us. jose has checked that we are among them.
   */
  protected checkAudience(payload: JWTPayload, what: 'ID token' | 'logout token' | 'userinfo'): void {
    const code = what === 'userinfo' ? 'LATCH_USERINFO_INVALID' : 'LATCH_ID_TOKEN_INVALID';
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const trusted = this.options.trustedAudiences ?? [];
    if (audiences.some((aud) => aud !== this.options.clientId && !trusted.includes(aud as string))) {
      throw new LatchError(code, { detail: `The ${what} names an audience that is not trusted (aud ${JSON.stringify(payload.aud)}).` });
    }
    if (what === 'logout token') return;
    if ((audiences.length > 1 && payload['azp'] === undefined) || (payload['azp'] !== undefined && payload['azp'] !== this.options.clientId)) {
      throw new LatchError(code, { detail: `The ${what} was issued to another party (azp ${String(payload['azp'])}).` });
    }
  }

  async authorizationUrl(tx: LoginTransaction, params: Record<string, string>): Promise<URL> {
    const as = await this.metadata();
    if (!as.authorization_endpoint) {
      throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The authorization server has no authorization endpoint.' });
    }
    const url = new URL(as.authorization_endpoint);
    const challenge = await oauth.calculatePKCECodeChallenge(tx.codeVerifier);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    for (const resource of this.options.resources ?? []) url.searchParams.append('resource', resource);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', tx.redirectUri ?? this.options.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', this.options.scopes);
    url.searchParams.set('state', tx.state);
    if (this.options.requireIdToken !== false) url.searchParams.set('nonce', tx.nonce);
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    // PAR (LATCH_PAR=true, or the server requires it): the parameters go over the back channel.
    if (this.options.par || as.require_pushed_authorization_requests) {
      return pushAuthorizationRequest(as, this.client, this.clientAuth, url, this.options.outbound);
    }
    return url;
  }

  /** Checks state, iss (RFC 9207) and error; returns the validated parameters. */
  protected async validateCallback(callback: URL, tx: LoginTransaction): Promise<URLSearchParams> {
    const as = await this.metadata();
    const params = callback.searchParams;
    for (const name of ['state', 'code', 'iss', 'error']) {
      if (params.getAll(name).length > 1) {
        throw new LatchError('LATCH_CALLBACK_INVALID', { detail: `The callback repeats the "${name}" parameter.` });
      }
    }
    if (params.get('state') !== tx.state) {
      throw new LatchError('LATCH_STATE_MISMATCH', { detail: 'The callback\'s state is not the transaction\'s.' });
    }
    const iss = params.get('iss');
    if ((iss !== null && iss !== as.issuer) || (iss === null && (as.authorization_response_iss_parameter_supported || this.options.requireIss))) {
      throw new LatchError('LATCH_ISSUER_MISMATCH');
    }
    let validated: URLSearchParams;
    try {
      validated = oauth.validateAuthResponse(as, this.client, params, tx.state);
    } catch (err) {
      if (err instanceof oauth.AuthorizationResponseError) throw new CallbackError(err.error, err);
      throw new LatchError('LATCH_CALLBACK_INVALID', { cause: err });
    }
    // Neither an error nor a code: nothing to exchange (oauth4webapi would only notice at the exchange).
    if (!validated.get('code')) throw new LatchError('LATCH_CALLBACK_INVALID', { detail: 'The sign-in response carries no code.' });
    return validated;
  }

  async handleCallback(callback: URL, tx: LoginTransaction): Promise<SignInResult> {
    const params = await this.validateCallback(callback, tx);
    const as = await this.metadata();
    const requireIdToken = this.options.requireIdToken !== false;
    const dpopKey = this.options.dpop ? newDpopKey() : undefined;
    const response = await outbound(this.options.outbound, 'code exchange', () => withDpop(
      dpopKey, { method: 'POST', url: as.token_endpoint },
      (headers) => oauth.authorizationCodeGrantRequest(
        as, this.client, this.clientAuth, params, tx.redirectUri ?? this.options.redirectUri, tx.codeVerifier,
        { ...requestOptions(this.options.outbound), headers },
      ),
      async (res) => {
        const processed = await oauth.processAuthorizationCodeResponse(as, this.client, res, {
          expectedNonce: requireIdToken ? tx.nonce : oauth.expectNoNonce,
          requireIdToken,
        });
        assertTokenType(processed, dpopKey !== undefined);
        return processed;
      },
    ));
    return this.signInFromTokens(response, requireIdToken ? tx.nonce : undefined, dpopKey);
  }

  /**
   * Resource owner password credentials (RFC 6749 4.3): trusted internal tools only, and off
   * unless LATCH_ENABLE_PASSWORD_GRANT=true. Wrong credentials (invalid_grant) are 401 LATCH_INVALID_CREDENTIALS.
   */
  async passwordGrant(username: string, password: string): Promise<SignInResult> {
    const as = await this.metadata();
    const dpopKey = this.options.dpop ? newDpopKey() : undefined;
    const response = await outbound(this.options.outbound, 'password grant', () => withDpop(
      dpopKey, { method: 'POST', url: as.token_endpoint },
      (headers) => oauth.genericTokenEndpointRequest(
        as, this.client, this.clientAuth, 'password', { username, password, ...(this.options.scopes ? { scope: this.options.scopes } : {}) },
        { ...requestOptions(this.options.outbound), headers },
      ),
      async (res) => {
        const processed = await oauth.processGenericTokenEndpointResponse(as, this.client, res);
        assertTokenType(processed, dpopKey !== undefined);
        return processed;
      },
    )).catch((err: unknown) => {
      // invalid_grant is the server's "wrong username or password": the caller's mistake, not ours.
      if (err instanceof LatchError && err.cause instanceof oauth.ResponseBodyError && err.cause.error === 'invalid_grant') {
        throw new LatchError('LATCH_INVALID_CREDENTIALS', { cause: err });
      }
      throw err;
    });
    return this.signInFromTokens(response, undefined, dpopKey);
  }

  /** From a token response to the signed-in user: the ID token (verified) and userinfo, merged. */
  protected async signInFromTokens(response: oauth.TokenEndpointResponse, nonce?: string, dpopKey?: DpopKey): Promise<SignInResult> {
    const tokens = toTokenSet(response);
    let idClaims: Record<string, unknown> | undefined;
    if (response.id_token) idClaims = await this.verifyIdToken(response.id_token, nonce);
    const sub = typeof idClaims?.['sub'] === 'string' ? idClaims['sub'] : undefined;
    const { user: info, unavailable } = await this.userinfoOrNull(tokens.accessToken, sub, dpopKey);
    const user = pickUserClaims({ ...(idClaims ?? {}), ...(info ?? {}) });
    if (typeof user.sub !== 'string' || user.sub === '') {
      throw new LatchError('LATCH_USERINFO_INVALID', { detail: 'Neither the ID token nor userinfo names the user.' });
    }
    const sid = typeof idClaims?.['sid'] === 'string' ? idClaims['sid'] : undefined;
    // acr and auth_time (step-up, /me): from the verified ID token only, never from userinfo.
    const acr = typeof idClaims?.['acr'] === 'string' ? idClaims['acr'] : undefined;
    const authTime = typeof idClaims?.['auth_time'] === 'number' ? idClaims['auth_time'] : undefined;
    return {
      tokens, user, ...(sid ? { sid } : {}), ...(unavailable ? { userinfoUnavailable: unavailable } : {}),
      ...(acr !== undefined ? { acr } : {}), ...(authTime !== undefined ? { authTime } : {}), ...(dpopKey ? { dpopKey } : {}),
    };
  }

  /** Signature against the JWKS with the algorithm pinned; then iss, aud, exp and (at sign-in) nonce. */
  protected async verifyIdToken(idToken: string, nonce?: string): Promise<Record<string, unknown>> {
    const as = await this.metadata();
    const { payload } = await this.verifyJwt(idToken, 'id token', {
      issuer: as.issuer,
      audience: this.options.clientId,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    this.checkAudience(payload, 'ID token');
    if (nonce !== undefined && payload['nonce'] !== nonce) {
      throw new LatchError('LATCH_ID_TOKEN_INVALID', { detail: 'The ID token was not issued for this sign-in (nonce).' });
    }
    // jose checks presence and type only: an empty sub, or an iat in the future, are defects too.
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new LatchError('LATCH_ID_TOKEN_INVALID', { detail: 'The ID token names no user.' });
    }
    if (typeof payload.iat === 'number' && payload.iat * 1000 > Date.now() + 30_000) {
      throw new LatchError('LATCH_ID_TOKEN_INVALID', { detail: 'The ID token was issued in the future.' });
    }
    return payload as Record<string, unknown>;
  }

  /**
   * Back-channel logout (OIDC Back-Channel Logout 1.0 §2.6): the logout token's signature against the
   * JWKS with the pinned algorithm; iss, aud, exp; iat at most five minutes old and not in the future.
   * The route (routes/backchannel.ts) checks the logout-specific claims.
   */
  async verifyLogoutToken(token: string): Promise<VerifiedLogoutToken> {
    const as = await this.metadata();
    const { payload, protectedHeader } = await this.verifyJwt(token, 'logout token', {
      issuer: as.issuer,
      audience: this.options.clientId,
      requiredClaims: ['iat', 'exp', 'jti'],
      maxTokenAge: 300,
    });
    this.checkAudience(payload, 'logout token');
    return { header: protectedHeader as Record<string, unknown>, claims: payload as Record<string, unknown> };
  }

  /**
   * Userinfo at sign-in, under one rule (docs/providers.md, "Userinfo"). With a verified ID token, a
   * userinfo call that yields no answer to read — refused (401, 403), failed (5xx), not JSON or a
   * JWT, timed out, unreachable, or signed with keys that cannot be fetched — leaves the ID token's
   * claims as the user, and is reported (`unavailable`) for the log. An answer that can be read but
   * is wrong — another `sub`, no `sub`, a signature, `iss` or `aud` that does not verify — refuses
   * the sign-in (LATCH_USERINFO_INVALID). Without an ID token, userinfo is the only source of the
   * user: every failure refuses.
   */
  protected async userinfoOrNull(accessToken: string, expectedSub: string | undefined, dpopKey?: DpopKey): Promise<{ user: LatchUser | null; unavailable?: LatchError }> {
    const as = await this.metadata();
    if (!as.userinfo_endpoint) return { user: null };
    try {
      return { user: await this.userinfo(accessToken, expectedSub, dpopKey) };
    } catch (err) {
      if (expectedSub === undefined || !(err instanceof LatchError) || err.code === 'LATCH_USERINFO_INVALID') throw err;
      return { user: null, unavailable: err };
    }
  }

  async userinfo(accessToken: string, expectedSub: string | undefined, dpopKey?: DpopKey): Promise<LatchUser> {
    const as = await this.metadata();
    if (!as.userinfo_endpoint) throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The authorization server has no userinfo endpoint.' });
    // A bound token goes as `DPoP <token>` with a proof (oauth4webapi picks the scheme from the DPoP header).
    const res = await outbound(this.options.outbound, 'userinfo', () => withDpop(
      dpopKey, { method: 'GET', url: as.userinfo_endpoint, accessToken },
      (headers) => oauth.userInfoRequest(as, this.client, accessToken, { ...requestOptions(this.options.outbound), headers }),
      async (res) => res,
    ));
    let claims: Record<string, unknown>;
    if (res.status === 200 && res.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() === 'application/jwt') {
      claims = await this.verifySignedUserinfo(as, await outbound(this.options.outbound, 'userinfo', () => res.text()));
    } else {
      claims = (await outbound(this.options.outbound, 'userinfo', () =>
        oauth.processUserInfoResponse(as, this.client, oauth.skipSubjectCheck, res),
      )) as Record<string, unknown>;
    }
    if (typeof claims['sub'] !== 'string' || claims['sub'] === '') {
      throw new LatchError('LATCH_USERINFO_INVALID', { detail: 'Userinfo does not name the user (no "sub").' });
    }
    if (expectedSub !== undefined && claims['sub'] !== expectedSub) {
      throw new LatchError('LATCH_USERINFO_INVALID', { detail: 'Userinfo did not match the signed-in user.' });
    }
    return pickUserClaims(claims);
  }

  /**
   * A signed userinfo answer (OIDC Core 5.3.2, `application/jwt`): the pinned algorithm against the
   * server's keys, and `iss` and `aud` required (the spec's SHOULD, made a MUST: an RP that verifies
   * the signature but not who it was for would accept another client's answer).
   */
  protected async verifySignedUserinfo(as: oauth.AuthorizationServer, jwt: string): Promise<Record<string, unknown>> {
    const { payload } = await this.verifyJwt(jwt, 'userinfo', { issuer: as.issuer, audience: this.options.clientId, requiredClaims: ['iss', 'aud'] });
    this.checkAudience(payload, 'userinfo');
    return payload as Record<string, unknown>;
  }

  /**
   * `dpopKey`: the session's DPoP key, when it has one: the refresh carries a proof, and the new token is bound to the same key.
   * `resource`: an RFC 8707 resource indicator: the access token is for that API alone (oauth/audience.ts).
   */
  async refresh(refreshToken: string, expectedSub: string, dpopKey?: DpopKey, resource?: string): Promise<RefreshResult> {
    const as = await this.metadata();
    const response = await outbound(this.options.outbound, 'refresh', () => withDpop(
      dpopKey, { method: 'POST', url: as.token_endpoint },
      (headers) => oauth.refreshTokenGrantRequest(as, this.client, this.clientAuth, refreshToken, { ...requestOptions(this.options.outbound), headers, ...(resource ? { additionalParameters: { resource } } : {}) }),
      async (res) => {
        const processed = await oauth.processRefreshTokenResponse(as, this.client, res);
        assertTokenType(processed, dpopKey !== undefined);
        return processed;
      },
    ));
    const tokens = toTokenSet(response);
    // Servers that do not rotate refresh tokens leave the old one valid.
    tokens.refreshToken ??= refreshToken;
    if (!response.id_token) return { tokens };
    let claims: Record<string, unknown>;
    try {
      claims = await this.verifyIdToken(response.id_token);
    } catch (err) {
      // The keys could not be fetched: not the token's fault, and the refresh token may be spent already.
      if (err instanceof LatchError && err.status >= 500) {
        const { idToken: _unverified, ...kept } = tokens;
        throw new RefreshKeptTokens(err, kept);
      }
      throw err;
    }
    if (claims['sub'] !== expectedSub) {
      throw new LatchError('LATCH_ID_TOKEN_INVALID', { detail: 'The refreshed ID token names another user.' });
    }
    return { tokens, user: pickUserClaims(claims) };
  }

  /**
   * RFC 8693 token exchange (oauth/audience.ts): the user's access token for one of `audience`'s own.
   * With a DPoP key the request carries a proof and the token must come back DPoP-bound.
   */
  async exchange(subjectToken: string, audience: string, dpopKey?: DpopKey): Promise<TokenSet> {
    const as = await this.metadata();
    const parameters = {
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience,
      resource: audience,
    };
    const response = await outbound(this.options.outbound, 'token exchange', () => withDpop(
      dpopKey, { method: 'POST', url: as.token_endpoint },
      (headers) => oauth.genericTokenEndpointRequest(as, this.client, this.clientAuth, 'urn:ietf:params:oauth:grant-type:token-exchange', parameters, { ...requestOptions(this.options.outbound), headers }),
      async (res) => {
        const processed = await oauth.processGenericTokenEndpointResponse(as, this.client, res);
        assertTokenType(processed, dpopKey !== undefined);
        return processed;
      },
    ));
    // Only the access token is kept: an exchange never replaces the session's own refresh or ID token.
    const { refreshToken: _ignored, idToken: _none, ...tokens } = toTokenSet(response);
    return tokens;
  }

  async logoutUrl(tokens: Pick<TokenSet, 'idToken' | 'accessToken'>, postLogoutRedirectUri: string): Promise<string | null> {
    let as: oauth.AuthorizationServer;
    try {
      as = await this.metadata();
    } catch {
      return null;
    }
    if (!as.end_session_endpoint) return null;
    const url = new URL(as.end_session_endpoint);
    if (tokens.idToken) url.searchParams.set('id_token_hint', tokens.idToken);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
    return url.href;
  }

  async tokenEndpoint(): Promise<TokenEndpointAccess> {
    const { serviceClientId: id, serviceClientSecret: secret, tokenAuthMethod, clientKeys } = this.options;
    // private_key_jwt: a service client of its own signs with the same keys (it is registered with the same JWKS).
    const service = clientKeys && id !== undefined && id !== this.options.clientId
      ? { client: { client_id: id }, clientAuth: this.clientAuth }
      : !clientKeys && id !== undefined && secret !== undefined && (id !== this.options.clientId || secret !== this.options.clientSecret)
        ? { client: { client_id: id }, clientAuth: tokenAuthMethod === 'client_secret_post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret) }
        : { client: this.client, clientAuth: this.clientAuth };
    return { as: await this.metadata(), ...service, outbound: this.options.outbound };
  }

  async revoke(tokens: Pick<TokenSet, 'accessToken' | 'refreshToken'>): Promise<void> {
    let as: oauth.AuthorizationServer;
    try {
      as = await this.metadata();
    } catch {
      return;
    }
    if (!as.revocation_endpoint) return;
    for (const token of [tokens.refreshToken, tokens.accessToken]) {
      if (!token) continue;
      try {
        await outbound(this.options.outbound, 'revocation', async () => {
          const res = await oauth.revocationRequest(as, this.client, this.clientAuth, token, requestOptions(this.options.outbound));
          await oauth.processRevocationResponse(res);
        });
      } catch {
        // Revocation is best effort: the cookie is cleared whatever happens here.
      }
    }
  }
}

export function toTokenSet(response: oauth.TokenEndpointResponse): TokenSet {
  const ttl = typeof response.expires_in === 'number' ? response.expires_in : ACCESS_TOKEN_DEFAULT_TTL_S;
  return {
    accessToken: response.access_token,
    expiresAt: Date.now() + ttl * 1000,
    lifetime: ttl,
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
    ...(response.id_token ? { idToken: response.id_token } : {}),
    ...(response.scope ? { scope: response.scope } : {}),
  };
}

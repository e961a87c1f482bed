/**
 * JWT access-token validation for the user's own APIs (the resource-server side): the token is an
 * RFC 9068 JWT, or a provider's JWT access token, signed with a key from the issuer's JWKS.
 * Framework-free; require-token.ts wraps it as Koa middleware.
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import { KeySetUnavailable, RemoteKeySet } from '../oauth/keys.ts';
import { createDpopProofVerifier, DpopProofError, type DpopPresentation } from './dpop.ts';

export interface AccessTokenOptions {
  /** The expected `iss`, exactly. Also where the JWKS is discovered when `jwksUri` is not given. */
  issuer: string;
  /** The issuer's JWKS; default: `jwks_uri` from the issuer's discovery document. */
  jwksUri?: string;
  /** This API's identifier: the token's `aud` must contain one of these. */
  audience: string | readonly string[];
  /** Scopes the token must all carry (403 insufficient_scope otherwise). */
  scopes?: readonly string[];
  /** Accepted signature algorithms; asymmetric only. default ['RS256', 'ES256'] */
  algorithms?: readonly string[];
  /** Seconds of clock skew tolerated on exp, nbf and iat. default 30 */
  clockTolerance?: number;
  /** Require the RFC 9068 `typ: at+jwt` header. default false: see `checkTokenType`. */
  strictTyp?: boolean;
  /** Timeout for discovery and JWKS requests, ms. default 5000 */
  timeoutMs?: number;
  /** Loud opt-out: allow an http:// issuer and JWKS (development only). */
  allowInsecureHttp?: boolean;
  /**
   * DPoP (RFC 9449). `allowed` (default): a DPoP-bound token (`cnf.jkt`) is accepted with the DPoP
   * scheme and a valid proof, an unbound one as Bearer. `required`: Bearer is refused too. Either way
   * a bound token presented as Bearer is refused: whoever stole it has no key.
   */
  dpop?: 'allowed' | 'required';
  /** Accepted DPoP proof algorithms. default ES256, PS256, EdDSA, Ed25519 */
  dpopAlgorithms?: readonly string[];
  /** How old a DPoP proof's `iat` may be, seconds (its `jti` is remembered that long). default 60 */
  dpopMaxAgeSeconds?: number;
}

/** A token that passed every check. */
export interface VerifiedAccessToken {
  claims: JWTPayload;
  /** From `scope` (space-separated), `scp` (string or array) and `scopes` (array), merged. */
  scopes: string[];
}

export type AccessTokenErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'temporarily_unavailable';

/** How the token was presented, and the scheme of the challenge that answers a refusal. */
export type TokenScheme = 'Bearer' | 'DPoP';

/**
 * Why a request was refused, as RFC 6750 says it: `code` is the `error` attribute, `status` the HTTP
 * status, `wwwAuthenticate` the challenge to send. `reason` is for the log only.
 */
export class AccessTokenError extends Error {
  readonly code: AccessTokenErrorCode;
  readonly status: number;
  readonly description: string;
  readonly reason: string;
  /** For insufficient_scope: the scopes the request needs. */
  readonly scope?: string;
  /** The scheme of the challenge: the one the token was presented with, or DPoP for a token that needs it. */
  scheme: TokenScheme;

  constructor(code: AccessTokenErrorCode, description: string, reason: string, options: { scope?: string; cause?: unknown; scheme?: TokenScheme } = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AccessTokenError';
    this.code = code;
    this.description = description;
    this.reason = reason;
    this.status = code === 'insufficient_scope' ? 403 : code === 'temporarily_unavailable' ? 503 : 401;
    this.scheme = options.scheme ?? 'Bearer';
    if (options.scope !== undefined) this.scope = options.scope;
  }

  /**
   * The WWW-Authenticate value (RFC 6750 section 3; RFC 9449 section 7.1 for DPoP), or null for 503.
   * With `dpopAlgs` (an API that takes DPoP) the DPoP challenge carries `algs`, and a request with no
   * credentials at all is offered both schemes (`Bearer` unless `dpopOnly`).
   */
  challenge(realm?: string, dpopAlgs?: readonly string[], dpopOnly = false): string | null {
    if (this.code === 'temporarily_unavailable') return null;
    const params: string[] = [];
    if (realm) params.push(`realm="${quote(realm)}"`);
    // A request with no credentials at all gets a bare challenge (RFC 6750 3.1).
    if (this.reason !== 'missing') {
      params.push(`error="${this.code}"`, `error_description="${quote(this.description)}"`);
      if (this.scope) params.push(`scope="${quote(this.scope)}"`);
    }
    const one = (scheme: TokenScheme, extra: string[]) => {
      const all = [...params, ...extra];
      return all.length ? `${scheme} ${all.join(', ')}` : scheme;
    };
    const algs = dpopAlgs?.length ? [`algs="${dpopAlgs.join(' ')}"`] : [];
    if (this.reason === 'missing' && dpopAlgs) return dpopOnly ? one('DPoP', algs) : `${one('Bearer', [])}, ${one('DPoP', algs)}`;
    return this.scheme === 'DPoP' ? one('DPoP', algs) : one('Bearer', []);
  }
}

function quote(value: string): string {
  return value.replace(/[\\"]/g, '').replace(/[^\x20-\x7e]/g, '');
}

const DEFAULT_ALGORITHMS = ['RS256', 'ES256'] as const;
/** Only asymmetric signatures: never `none`, never HS* (whose key would be a public value here). */
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

/** Authorization: Bearer only. A token in the query string (RFC 6750 2.3) is refused outright. */
export function readBearerToken(authorization: string | undefined, query?: URLSearchParams | string): string {
  return readAccessToken(authorization, query, ['Bearer']).token;
}

/**
 * The token of `Authorization: Bearer <token>` or (with DPoP among `schemes`) `Authorization: DPoP
 * <token>`, and its scheme. A token in the query string (RFC 6750 2.3) is refused outright.
 */
export function readAccessToken(
  authorization: string | undefined,
  query?: URLSearchParams | string,
  schemes: readonly TokenScheme[] = ['Bearer', 'DPoP'],
): { token: string; scheme: TokenScheme } {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  if (params?.has('access_token')) {
    throw new AccessTokenError('invalid_request', 'Send the access token in the Authorization header only.', 'token in query');
  }
  const missing = () => new AccessTokenError('invalid_token', 'A bearer token is required.', 'missing');
  if (!authorization) throw missing();
  const named = /^(Bearer|DPoP)\b/i.exec(authorization)?.[1];
  const scheme = schemes.find((s) => s.toLowerCase() === named?.toLowerCase());
  if (!scheme) throw missing();
  const match = /^\S+ +([A-Za-z0-9\-._~+/]+=*) *$/.exec(authorization);
  if (!match) throw new AccessTokenError('invalid_token', 'The access token is malformed.', 'malformed header', { scheme });
  return { token: match[1]!, scheme };
}

/** Every scope a token carries, whichever claim its issuer uses. */
export function tokenScopes(claims: JWTPayload): string[] {
  const out = new Set<string>();
  const add = (value: unknown) => {
    const items: unknown[] = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    for (const item of items) if (typeof item === 'string' && item) out.add(item);
  };
  add(claims['scope']);
  add(claims['scp']);
  add(claims['scopes']);
  return [...out];
}

/**
 * Refuses ID tokens and other JWTs presented as access tokens. `typ: at+jwt` (RFC 9068; oidc-provider
 * sets it) is accepted. With `strictTyp` nothing else is. Without it, a token typed `JWT` or untyped
 * (Auth0, Entra ID, Keycloak) must look like an access token: no `nonce`, `at_hash` or `c_hash` (ID
 * token claims), and a `scope`/`scp`/`scopes` or `client_id` claim. Any other typ (logout+jwt,
 * dpop+jwt...) is refused.
 */
export function checkTokenType(header: Pick<JWTHeaderParameters, 'typ'>, claims: JWTPayload, strict: boolean): void {
  const typ = header.typ?.toLowerCase().replace(/^application\//, '');
  if (typ === 'at+jwt') return;
  const refuse = (reason: string) => {
    throw new AccessTokenError('invalid_token', 'The token is not an access token.', reason);
  };
  if (strict) refuse(`typ ${typ ?? '(none)'} is not at+jwt`);
  if (typ !== undefined && typ !== 'jwt') refuse(`typ ${typ}`);
  if ('nonce' in claims || 'at_hash' in claims || 'c_hash' in claims) refuse('ID token claims');
  const looksLikeAccessToken = ['scope', 'scp', 'scopes', 'client_id'].some((name) => claims[name] !== undefined);
  if (!looksLikeAccessToken) refuse('no scope or client_id claim');
}

// ---------------------------------------------------------------------------------------------------------
// Keys: one key set per JWKS URL for the whole process, and one discovery per issuer.

/** Discovery or the key endpoint could not be used (down, slow, not JSON): the caller fails closed with 503. */
class KeysUnavailable extends Error {}

const keySets = new Map<string, RemoteKeySet>();
const discovered = new Map<string, Promise<string>>();

function checkUrl(value: string, what: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${what} must be an absolute URL, got "${value}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowInsecureHttp)) {
    throw new TypeError(`${what} must use https:// (allowInsecureHttp is for development only)`);
  }
  return url;
}

async function fetchJson(url: string, timeoutMs: number): Promise<Record<string, unknown> | null> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  const body = (await res.json()) as unknown;
  if (!body || typeof body !== 'object') throw new Error(`${url} did not answer a JSON object`);
  return body as Record<string, unknown>;
}

/** jwks_uri from OpenID discovery, or RFC 8414 metadata. Failures are not cached. */
function discoverJwksUri(issuer: string, timeoutMs: number, allowInsecureHttp: boolean): Promise<string> {
  let pending = discovered.get(issuer);
  if (!pending) {
    pending = (async () => {
      const base = new URL(issuer);
      const candidates = [
        `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
        `${base.origin}/.well-known/oauth-authorization-server${base.pathname === '/' ? '' : base.pathname}`,
      ];
      for (const url of candidates) {
        const metadata = await fetchJson(url, timeoutMs);
        if (!metadata) continue;
        if (metadata['issuer'] !== issuer) throw new Error(`${url} names issuer ${String(metadata['issuer'])}`);
        const jwksUri = metadata['jwks_uri'];
        if (typeof jwksUri !== 'string') throw new Error(`${url} has no jwks_uri`);
        checkUrl(jwksUri, 'jwks_uri', allowInsecureHttp);
        return jwksUri;
      }
      throw new Error(`no discovery document for ${issuer}`);
    })();
    discovered.set(issuer, pending);
    pending.catch(() => discovered.delete(issuer));
  }
  return pending;
}

/**
 * The issuer's key set (oauth/keys.ts): cached 10 minutes; a token whose kid is unknown, or that no
 * cached key verifies, refetches it at once, single-flight and at most once a second. So a key the
 * issuer just rotated in verifies at once, and a flood of made-up kids costs one fetch a second.
 * Token faults (no such key) stay token faults; fetch faults are KeySetUnavailable, discovery faults KeysUnavailable.
 */
function keySetFor(options: Required<Pick<AccessTokenOptions, 'issuer' | 'timeoutMs' | 'allowInsecureHttp'>> & { jwksUri?: string }): () => Promise<RemoteKeySet> {
  return async () => {
    let jwksUri: string;
    try {
      jwksUri = options.jwksUri ?? (await discoverJwksUri(options.issuer, options.timeoutMs, options.allowInsecureHttp));
    } catch (err) {
      throw new KeysUnavailable('discovery failed', { cause: err });
    }
    let keys = keySets.get(jwksUri);
    if (!keys) {
      keys = new RemoteKeySet(new URL(jwksUri), { timeoutMs: options.timeoutMs });
      keySets.set(jwksUri, keys);
    }
    return keys;
  };
}

// ---------------------------------------------------------------------------------------------------------

/**
 * Verifies a token presented as Bearer (`dpop` undefined), or with the DPoP scheme and the request its
 * proof must match (`dpop`).
 */
export type AccessTokenVerifier = ((token: string, dpop?: DpopPresentation) => Promise<VerifiedAccessToken>) & {
  /** The DPoP proof algorithms accepted, for the challenge's `algs`. */
  readonly dpopAlgorithms: readonly string[];
  /** Whether Bearer is refused (`dpop: 'required'`). */
  readonly dpopRequired: boolean;
};

/** Checks the options once and returns a verifier to call per request. Throws TypeError on bad options. */
export function createAccessTokenVerifier(options: AccessTokenOptions): AccessTokenVerifier {
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  if (!options.issuer) throw new TypeError('issuer is required: it is the `iss` every token must carry');
  checkUrl(options.issuer, 'issuer', allowInsecureHttp);
  if (options.jwksUri !== undefined) checkUrl(options.jwksUri, 'jwksUri', allowInsecureHttp);
  const audience = typeof options.audience === 'string' ? [options.audience] : [...(options.audience ?? [])];
  if (audience.length === 0 || audience.some((a) => !a)) throw new TypeError('audience is required: the identifier of this API');
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
  for (const alg of algorithms) {
    if (!ASYMMETRIC.has(alg)) throw new TypeError(`algorithm "${alg}" is not accepted: access tokens must be signed with an asymmetric key`);
  }
  const required = [...new Set(options.scopes ?? [])];
  const clockTolerance = options.clockTolerance ?? 30;
  const strictTyp = options.strictTyp ?? false;
  const dpopRequired = options.dpop === 'required';
  const proofs = createDpopProofVerifier({
    ...(options.dpopAlgorithms ? { algorithms: options.dpopAlgorithms } : {}),
    ...(options.dpopMaxAgeSeconds !== undefined ? { maxAgeSeconds: options.dpopMaxAgeSeconds } : {}),
    clockTolerance,
  });
  const keySet = keySetFor({
    issuer: options.issuer,
    ...(options.jwksUri !== undefined ? { jwksUri: options.jwksUri } : {}),
    timeoutMs: options.timeoutMs ?? 5000,
    allowInsecureHttp,
  });

  async function verify(token: string, dpop?: DpopPresentation): Promise<VerifiedAccessToken> {
    try {
      return await verifyPresented(token, dpop);
    } catch (err) {
      // A refusal of a token presented with the DPoP scheme is answered with a DPoP challenge.
      if (dpop && err instanceof AccessTokenError) err.scheme = 'DPoP';
      throw err;
    }
  }

  async function verifyPresented(token: string, dpop: DpopPresentation | undefined): Promise<VerifiedAccessToken> {
    let claims: JWTPayload;
    let header: JWTHeaderParameters;
    try {
      // Cheap shape check first: a garbage string never reaches the key endpoint.
      decodeProtectedHeader(token);
    } catch (err) {
      throw new AccessTokenError('invalid_token', 'The access token is malformed.', 'not a JWS', { cause: err });
    }
    try {
      const keys = await keySet();
      ({ payload: claims, protectedHeader: header } = await keys.verify((getKey) => jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience,
        algorithms,
        clockTolerance,
        requiredClaims: ['exp'],
      })));
    } catch (err) {
      throw translate(err);
    }
    checkTokenType(header, claims, strictTyp);
    await checkBinding(claims, token, dpop);
    const scopes = tokenScopes(claims);
    const missing = required.filter((s) => !scopes.includes(s));
    if (missing.length > 0) {
      throw new AccessTokenError('insufficient_scope', 'The access token lacks a required scope.', `missing ${missing.join(' ')}`, {
        scope: required.join(' '),
      });
    }
    return { claims, scopes };
  }

  /** RFC 9449 section 7: a bound token only with its proof, an unbound one only as Bearer (and not at all when DPoP is required). */
  async function checkBinding(claims: JWTPayload, token: string, dpop: DpopPresentation | undefined): Promise<void> {
    const cnf = claims['cnf'];
    const jkt = cnf && typeof cnf === 'object' ? (cnf as Record<string, unknown>)['jkt'] : undefined;
    if (!dpop) {
      if (jkt !== undefined) {
        throw new AccessTokenError('invalid_token', 'The access token is bound to a key: present it with the DPoP scheme and a proof.', 'DPoP-bound token presented as Bearer', { scheme: 'DPoP' });
      }
      if (dpopRequired) throw new AccessTokenError('invalid_token', 'This API takes DPoP-bound tokens only.', 'Bearer where DPoP is required', { scheme: 'DPoP' });
      return;
    }
    if (typeof jkt !== 'string') throw new AccessTokenError('invalid_token', 'The access token is not bound to a key (no cnf.jkt).', 'DPoP scheme, unbound token');
    try {
      await proofs.verifyProof(dpop, token, jkt);
    } catch (err) {
      if (!(err instanceof DpopProofError)) throw err;
      if (err.unavailable) throw new AccessTokenError('temporarily_unavailable', 'Too many requests to check now. Try again later.', err.reason, { cause: err });
      throw new AccessTokenError('invalid_dpop_proof', 'The DPoP proof is not valid for this request.', err.reason, { cause: err });
    }
  }

  return Object.assign(verify, { dpopAlgorithms: proofs.algorithms, dpopRequired });
}

/** One-off verification; keys and discovery stay cached across calls (per JWKS URL and issuer). */
export function verifyAccessToken(token: string, options: AccessTokenOptions, dpop?: DpopPresentation): Promise<VerifiedAccessToken> {
  return createAccessTokenVerifier(options)(token, dpop);
}

function translate(err: unknown): Error {
  if (err instanceof AccessTokenError) return err;
  if (err instanceof KeysUnavailable || err instanceof KeySetUnavailable) {
    const cause = err instanceof KeysUnavailable ? err.cause : err;
    return new AccessTokenError('temporarily_unavailable', 'The signing keys cannot be loaded. Try again later.', err.message, { cause });
  }
  if (err instanceof joseErrors.JWTExpired) return new AccessTokenError('invalid_token', 'The access token has expired.', 'expired', { cause: err });
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new AccessTokenError('invalid_token', 'The access token is not valid here.', `claim ${err.claim}: ${err.reason}`, { cause: err });
  }
  if (err instanceof joseErrors.JOSEError) {
    return new AccessTokenError('invalid_token', 'The access token is not valid.', err.code, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * DPoP (RFC 9449), the client side: a key pair per session, and the proofs that bind its tokens to it.
 *
 * The key is an ES256 (P-256) pair made at sign-in. Its private half lives in the session only (sealed
 * in the cookie, or in the store in server-side mode) and never leaves the BFF: the provider and the
 * upstream APIs see the public key in each proof's header, nothing else. jose signs; this module only
 * says what goes into a proof.
 *
 * Nonces (RFC 9449 section 8 and 9): a server may answer `use_dpop_nonce` with a `DPoP-Nonce` header.
 * Every nonce a server sends is remembered per origin (at most MAX_ORIGINS origins, the oldest dropped
 * first) and put into the next proof for that origin, whoever's session it is for; a request that was
 * refused for its nonce is sent once more with the new one, and a second refusal is the answer (a
 * server that asks for a new nonce every time would otherwise keep us in a loop).
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { importJWK, SignJWT } from 'jose';
import { LatchError } from '../errors.ts';
import { assertBearer } from './outbound.ts';

/** The session's DPoP key: a P-256 private key's JWK members. About 130 bytes before sealing. */
export interface DpopKey {
  x: string;
  y: string;
  d: string;
}

/** A new key pair for a new session. generateKeyPairSync: about 50 µs, once a sign-in. */
export function newDpopKey(): DpopKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { x: jwk.x!, y: jwk.y!, d: jwk.d! };
}

export function isDpopKey(value: unknown): value is DpopKey {
  if (!value || typeof value !== 'object') return false;
  const k = value as Record<string, unknown>;
  return [k['x'], k['y'], k['d']].every((v) => typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v));
}

/**
 * Imported keys, by their private member: a session's key is imported once per process, not on every
 * proxied request (a WebCrypto key signs about 10 µs faster through jose than a KeyObject, which it
 * converts each time). Bounded (the oldest dropped first): 1024 keys, well under 1 MB.
 */
const MAX_KEYS = 1024;
const imported = new Map<string, Promise<CryptoKey>>();

function privateKeyOf(key: DpopKey): Promise<CryptoKey> {
  let pending = imported.get(key.d);
  if (!pending) {
    pending = importJWK({ kty: 'EC', crv: 'P-256', x: key.x, y: key.y, d: key.d }, 'ES256').then(
      (k) => k as CryptoKey,
      (err: unknown) => {
        imported.delete(key.d);
        throw new LatchError('LATCH_INTERNAL', { detail: 'The session\'s DPoP key cannot be used.', cause: err });
      },
    );
    if (imported.size >= MAX_KEYS) imported.delete(imported.keys().next().value!);
    imported.set(key.d, pending);
  }
  return pending;
}

/** base64url(SHA-256(token)): the proof's `ath` (RFC 9449 section 4.2), and what a resource server compares it with. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

// ---------------------------------------------------------------------------------------------------------
// Nonces, per server

const MAX_ORIGINS = 256;
/** RFC 9449 section 8.1: a nonce is NQCHAR (printable ASCII but `"` and `\`). Longer than this is not kept. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]{1,512}$/;
const nonces = new Map<string, string>();

/** Remembers the `DPoP-Nonce` a server sent (any answer may carry one). Malformed or oversized values are ignored. */
export function rememberNonce(url: URL, value: string | string[] | null | undefined): void {
  if (typeof value !== 'string' || !NONCE.test(value)) return;
  nonces.delete(url.origin);
  if (nonces.size >= MAX_ORIGINS) nonces.delete(nonces.keys().next().value!);
  nonces.set(url.origin, value);
}

/** The nonce to put in the next proof for this server, if it has sent one. */
export function currentNonce(url: URL): string | undefined {
  return nonces.get(url.origin);
}

/** How many servers' nonces are remembered (for tests: the cache stays bounded). */
export function rememberedNonces(): number {
  return nonces.size;
}

/** A resource server's 401 asking for a (new) nonce: `WWW-Authenticate: DPoP error="use_dpop_nonce"` (RFC 9449 section 9). */
export function asksForNonce(status: number | undefined, wwwAuthenticate: string | string[] | undefined): boolean {
  if (status !== 401 || wwwAuthenticate === undefined) return false;
  const value = Array.isArray(wwwAuthenticate) ? wwwAuthenticate.join(', ') : wwwAuthenticate;
  return /(?:^|,)\s*dpop\b[^]*?\berror\s*=\s*"?use_dpop_nonce"?/i.test(value);
}

// ---------------------------------------------------------------------------------------------------------
// Proofs

/**
 * A proof for one request (RFC 9449 section 4.2): `htm` the method, `htu` the URL without query and
 * fragment, a fresh `jti`, `iat` now, the server's nonce when it has sent one, and with an access token
 * its hash (`ath`). The header carries the public key only.
 */
export async function dpopProof(key: DpopKey, htm: string, url: URL, accessToken?: string): Promise<string> {
  const nonce = currentNonce(url);
  const privateKey = await privateKeyOf(key);
  return new SignJWT({
    htm,
    htu: `${url.origin}${url.pathname}`,
    jti: randomBytes(16).toString('base64url'),
    ...(nonce !== undefined ? { nonce } : {}),
    ...(accessToken !== undefined ? { ath: accessTokenHash(accessToken) } : {}),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: key.x, y: key.y } })
    .setIssuedAt()
    .sign(privateKey);
}

/**
 * One call to the authorization server with a proof (token endpoint, userinfo), sent again once when
 * the server refuses it for its nonce: `request` sends with the given headers, `process` reads the
 * answer (oauth4webapi's process* functions, which throw on a `use_dpop_nonce` refusal). Without a key
 * the call goes out as it is, with no DPoP header.
 */
export async function withDpop<T>(
  key: DpopKey | undefined,
  call: { method: string; url: string | undefined; accessToken?: string },
  request: (headers: Record<string, string>) => Promise<Response>,
  process: (response: Response) => Promise<T>,
): Promise<T> {
  if (!key) return process(await request({}));
  // No such endpoint: oauth4webapi's request says so (the proof needs a URL, and there is none).
  if (call.url === undefined) return process(await request({}));
  const url = new URL(call.url);
  for (let attempt = 0; ; attempt += 1) {
    const response = await request({ dpop: await dpopProof(key, call.method, url, call.accessToken) });
    rememberNonce(url, response.headers.get('dpop-nonce'));
    if (attempt === 0 && asksForNonce(response.status, response.headers.get('www-authenticate') ?? undefined)) {
      // A resource (userinfo) asking for a nonce: the 401 carries it, the request goes once more.
      await response.body?.cancel();
      continue;
    }
    try {
      return await process(response);
    } catch (err) {
      if (attempt === 0 && oauth.isDPoPNonceError(err)) continue;
      throw err;
    }
  }
}

/**
 * The token type a token response must have: `DPoP` when a proof was sent (a server that answers
 * `Bearer` ignored the proof, and the token would be usable by whoever steals it), else `Bearer`. Both
 * in any case; oauth4webapi lower-cases token_type and lets either through, so this is the check.
 */
export function assertTokenType(response: { token_type?: unknown }, dpop: boolean): void {
  if (!dpop) return assertBearer(response);
  if (typeof response.token_type === 'string' && response.token_type.toLowerCase() === 'dpop') return;
  throw new LatchError('LATCH_TOKEN_TYPE_UNSUPPORTED', {
    detail: `DPoP was asked for, and the token type is ${String(response.token_type)}: the token is not bound to the session's key.`,
  });
}

/** The Authorization header for a token: `DPoP <token>` for a session with a key, else `Bearer <token>`. Never Bearer for a bound token. */
export function authorizationFor(accessToken: string, key: DpopKey | undefined): string {
  return `${key ? 'DPoP' : 'Bearer'} ${accessToken}`;
}

/** What the proxy's upstream answers look like here (node:http's IncomingMessage). */
interface UpstreamAnswer {
  statusCode?: number | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One upstream API call with a proof (the proxy), sent once more when the upstream answers 401
 * `use_dpop_nonce` and the request can be sent again (no body, or a buffered one): `send` makes a new
 * proof each time, with the nonce just remembered. A second nonce challenge is the answer.
 */
export async function sendWithNonce<R extends UpstreamAnswer>(url: URL, replayable: boolean, send: () => Promise<R>, drop: (answer: R) => void): Promise<R> {
  let answer = await send();
  rememberNonce(url, answer.headers['dpop-nonce']);
  if (replayable && asksForNonce(answer.statusCode, answer.headers['www-authenticate'])) {
    drop(answer);
    answer = await send();
    rememberNonce(url, answer.headers['dpop-nonce']);
  }
  return answer;
}

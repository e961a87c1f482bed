/**
 * DPoP (RFC 9449), the resource-server side: the proof that comes with a DPoP-bound access token,
 * checked as section 4.3 and 7.1 say. Framework-free; verify.ts calls it for a token presented with
 * the DPoP scheme, require-token.ts answers its refusals.
 *
 * Checked, in order: one proof, of a sane size; `typ: dpop+jwt`, an accepted asymmetric `alg`, a public
 * `jwk` in the header and the signature by it (jose's EmbeddedJWK, which refuses private keys); `htm`
 * the request's method; `htu` the request's URL without query and fragment (both normalised by the URL
 * parser); `iat` no older than `maxAgeSeconds` and not in the future beyond the clock tolerance; `ath`
 * the hash of the access token presented; the key's thumbprint the token's `cnf.jkt`; and last `jti`
 * never seen before for that key within the window (a replay is refused even when everything else is
 * right: a proof read off the wire must not open a second request).
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';

/** What the proof is checked against: the request as this server received it, and the token it carries. */
export interface DpopPresentation {
  /** The DPoP header's value(s): more than one is refused. */
  proof: string | readonly string[] | undefined;
  /** The request's method. */
  method: string;
  /** The request's URL as its client addressed it (scheme, host, path; query and fragment are ignored). */
  url: string;
}

export interface DpopProofOptions {
  /** Accepted proof algorithms. default ES256, PS256, EdDSA, Ed25519 (asymmetric only) */
  algorithms?: readonly string[];
  /** How old a proof's `iat` may be, seconds. default 60 */
  maxAgeSeconds?: number;
  /** Seconds of clock skew tolerated (a proof from slightly in the future). default 30 */
  clockTolerance?: number;
}

export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'PS256', 'EdDSA', 'Ed25519'] as const;
const ASYMMETRIC = /^(?:RS|PS|ES)(?:256|384|512)$|^EdDSA$|^Ed25519$/;
/** A proof is a few hundred bytes (an ES256 one about 500, an RSA one with its modulus under 1.5 KB). */
const MAX_PROOF_BYTES = 4096;

/** Why a proof was refused. `reason` is for the log; the answer says `invalid_dpop_proof` (RFC 9449 section 7.1). */
export class DpopProofError extends Error {
  readonly reason: string;
  /** The replay cache is full of live entries: 503, never an acceptance without the replay check. */
  readonly unavailable: boolean;
  constructor(reason: string, options: { cause?: unknown; unavailable?: boolean } = {}) {
    super(`invalid DPoP proof: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DpopProofError';
    this.reason = reason;
    this.unavailable = options.unavailable ?? false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Replays: every proof accepted, remembered (by key and jti) until it would be too old anyway.

/**
 * At most this many proofs remembered in the process: 100 000 entries of about 150 bytes, 15 MB. A
 * server that accepts more than that in one window (about 1100 a second with the defaults) refuses
 * the excess with 503 rather than forget a proof that could then be replayed.
 */
const MAX_REMEMBERED = 100_000;
const seen = new Map<string, number>();

function remember(key: string, until: number, now: number): void {
  // Entries go in about the order they expire (same window, iat near now): sweep from the oldest.
  for (const [oldest, expires] of seen) {
    if (expires > now) break;
    seen.delete(oldest);
  }
  if (seen.has(key)) throw new DpopProofError('replayed (jti seen before)');
  if (seen.size >= MAX_REMEMBERED) throw new DpopProofError('replay cache full', { unavailable: true });
  seen.set(key, until);
}

/** How many proofs are remembered (for tests: the cache stays bounded). */
export function rememberedProofs(): number {
  return seen.size;
}

// ---------------------------------------------------------------------------------------------------------

/** The URL a proof's `htu` must name: scheme, host and path, normalised (lower-case host, default port dropped). */
function targetUri(value: string): string | undefined {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** A checker of proofs with fixed options. Throws TypeError on bad options. */
export function createDpopProofVerifier(options: DpopProofOptions = {}) {
  const algorithms = [...(options.algorithms ?? DEFAULT_DPOP_ALGORITHMS)];
  for (const alg of algorithms) {
    if (!ASYMMETRIC.test(alg)) throw new TypeError(`DPoP proof algorithm "${alg}" is not accepted: proofs must be signed with an asymmetric key`);
  }
  const maxAge = options.maxAgeSeconds ?? 60;
  const tolerance = options.clockTolerance ?? 30;

  /**
   * Checks `presented` for `accessToken`, whose `cnf.jkt` is `jkt`. Resolves when the proof is good and
   * has not been seen before (it is remembered from then on); throws DpopProofError otherwise.
   */
  async function verifyProof(presented: DpopPresentation, accessToken: string, jkt: string): Promise<void> {
    const { proof } = presented;
    if (proof === undefined || proof === '') throw new DpopProofError('no DPoP header');
    // Two headers, whether kept apart or joined by a proxy with a comma (which no JWS holds).
    if (typeof proof !== 'string' || proof.includes(',')) throw new DpopProofError('more than one DPoP header');
    if (proof.length > MAX_PROOF_BYTES) throw new DpopProofError('too large');
    let payload: Record<string, unknown>;
    let jwk: JWK;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms });
      payload = verified.payload;
      jwk = verified.protectedHeader.jwk!;
    } catch (err) {
      throw new DpopProofError('signature, typ or alg', { cause: err });
    }
    if (payload['htm'] !== presented.method) throw new DpopProofError('htm is not the request\'s method');
    const htu = typeof payload['htu'] === 'string' ? targetUri(payload['htu']) : undefined;
    if (htu === undefined || htu !== targetUri(presented.url)) throw new DpopProofError('htu is not the request\'s URL');
    const now = Math.floor(Date.now() / 1000);
    const iat = payload['iat'];
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new DpopProofError('no iat');
    if (iat > now + tolerance) throw new DpopProofError('iat in the future');
    if (iat < now - maxAge - tolerance) throw new DpopProofError('too old');
    const jti = payload['jti'];
    if (typeof jti !== 'string' || jti === '' || jti.length > 256) throw new DpopProofError('no usable jti');
    if (payload['ath'] !== createHash('sha256').update(accessToken).digest('base64url')) throw new DpopProofError('ath is not the token\'s hash');
    if ((await calculateJwkThumbprint(jwk, 'sha256')) !== jkt) throw new DpopProofError('the key is not the one the token is bound to (cnf.jkt)');
    remember(`${jkt}:${jti}`, (iat + maxAge + tolerance + 1) * 1000, Date.now());
  }

  return { algorithms, verifyProof };
}

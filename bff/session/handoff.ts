/**
 * Sign-ins that must cross a site boundary (docs/embedding.md): the one-time proof that lets `/me`
 * tell "no cookie because third-party cookies are blocked" from "not signed in", and the
 * partitioned-cookie hand-off code. Plain functions over the application's sessions (their sealer
 * and store), whatever cookies the session then goes into: no Koa here.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LatchError } from '../errors.ts';
import type { Sessions } from './sessions.ts';
import { isSession, type Session } from './session.ts';
import { storeKeys } from './store-keys.ts';
import { digest } from './store.ts';

/** How long a sign-in proof counts, seconds: the way back to the page and its first `/me`. */
export const PROOF_TTL_S = 120;
/** How long a hand-off code can be redeemed, seconds: the popup posts it, the page redeems it at once. */
export const HANDOFF_TTL_S = 60;
/** A code's record is kept this long, so that a late redemption is told "expired" rather than "unknown". */
const HANDOFF_KEEP_S = 2 * HANDOFF_TTL_S;

/** An S256 code challenge: base64url of a SHA-256 digest, no padding. */
export const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** An RFC 7636 verifier: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** A hand-off code as issued below (32 random bytes, base64url). */
const CODE = /^[A-Za-z0-9_-]{43}$/;

interface Proof {
  t: 'proof';
  sid: string;
  exp: number;
}

interface HandoffRecord {
  t: 'handoff';
  /** The session the code stands for. */
  s: Session;
  /** The S256 challenge of the widget's verifier. */
  c: string;
  /** The opener's exact origin (the sign-in's returnTo origin, an allowed origin). */
  o: string;
  /** The site (host) that issued it. */
  h: string;
  /** Redeemable until, epoch ms. */
  exp: number;
}

/** A sealed proof that session `sid` was just created, for the page's next `/me` (`?proof=`). */
export function issueProof(sessions: Sessions, sid: string, now = Date.now()): Promise<string> {
  const proof: Proof = { t: 'proof', sid, exp: now + PROOF_TTL_S * 1000 };
  return sessions.sealer.seal(proof, PROOF_TTL_S);
}

/**
 * For a `/me` that found no session: true when it carries a valid, unexpired proof of a sign-in,
 * which means the browser did not send the cookie the callback set. Each proof counts once.
 */
export async function provesBlockedCookies(sessions: Sessions, proof: unknown, now = Date.now()): Promise<boolean> {
  if (typeof proof !== 'string' || proof === '' || proof.length > 2048) return false;
  const data = await sessions.sealer.unseal<Proof>(proof);
  if (!data || data.t !== 'proof' || typeof data.sid !== 'string' || typeof data.exp !== 'number' || data.exp <= now) return false;
  return sessions.claimOnce(`proof:${digest(proof)}`, PROOF_TTL_S * 1000);
}

/**
 * Issues a one-time hand-off code for `session` (instead of a session cookie), bound to the
 * widget's S256 `challenge`, the opener's exact `origin` and the issuing site's `host`.
 * Redeemable once, within HANDOFF_TTL_S.
 */
export async function issueHandoff(
  sessions: Sessions,
  session: Session,
  binding: { challenge: string; origin: string; host: string },
  now = Date.now(),
): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  const record: HandoffRecord = { t: 'handoff', s: session, c: binding.challenge, o: binding.origin, h: binding.host, exp: now + HANDOFF_TTL_S * 1000 };
  await sessions.store.set(handoffKey(code), await sessions.sealer.seal(record, HANDOFF_KEEP_S), HANDOFF_KEEP_S * 1000);
  return code;
}

/**
 * Redeems a code: the session it stands for, or a coded error. The first attempt spends the code,
 * whatever its outcome (like an authorization code), so a code cannot be tried twice:
 * - 400 LATCH_HANDOFF_INVALID: malformed, unknown, already used, or issued by another site;
 * - 400 LATCH_HANDOFF_EXPIRED: redeemed after HANDOFF_TTL_S;
 * - 403 LATCH_HANDOFF_ORIGIN: `origin` is not the opener's origin the code was posted to;
 * - 403 LATCH_HANDOFF_VERIFIER: no verifier, or one whose S256 is not the challenge.
 */
export async function redeemHandoff(
  sessions: Sessions,
  request: { code: unknown; verifier: unknown; origin: string; host: string },
  now = Date.now(),
): Promise<Session> {
  const { code } = request;
  if (typeof code !== 'string' || !CODE.test(code)) throw new LatchError('LATCH_HANDOFF_INVALID', { detail: 'The code is malformed.' });
  const key = handoffKey(code);
  if (!(await sessions.claimOnce(key, HANDOFF_KEEP_S * 1000))) throw new LatchError('LATCH_HANDOFF_INVALID', { detail: 'The code was tried before.' });
  const sealed = await sessions.store.get(key);
  if (!sealed) throw new LatchError('LATCH_HANDOFF_INVALID', { detail: 'The code is unknown, or its record has gone.' });
  await sessions.store.del(key);
  const record = await sessions.sealer.unseal<HandoffRecord>(sealed);
  if (!record || record.t !== 'handoff' || !isSession(record.s) || record.h !== request.host) {
    throw new LatchError('LATCH_HANDOFF_INVALID', { detail: 'The code\'s record does not open, or another site issued it.' });
  }
  if (!(record.exp > now)) throw new LatchError('LATCH_HANDOFF_EXPIRED');
  if (request.origin !== record.o) throw new LatchError('LATCH_HANDOFF_ORIGIN');
  const { verifier } = request;
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier) || !sameChallenge(s256(verifier), record.c)) {
    throw new LatchError('LATCH_HANDOFF_VERIFIER');
  }
  return record.s;
}

/** The store key of a code's record (a digest: the store never holds a redeemable code). */
export const handoffKey = storeKeys.handoff;

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function sameChallenge(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

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

export const blockedCookies = () =>
  new LatchError(
    'LATCH_THIRD_PARTY_COOKIES_BLOCKED',
    401,
    'You signed in, but the browser does not send the BFF\'s session cookie with this page\'s requests: the page and the BFF are on different sites, and third-party cookies are blocked. ' +
      'Give the BFF a host name on the page\'s site, mount it under a path of that site, or use the partitioned hand-off: see docs/embedding.md.',
  );

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
  if (typeof code !== 'string' || !CODE.test(code)) throw handoffError('LATCH_HANDOFF_INVALID');
  const key = handoffKey(code);
  if (!(await sessions.claimOnce(key, HANDOFF_KEEP_S * 1000))) throw handoffError('LATCH_HANDOFF_INVALID');
  const sealed = await sessions.store.get(key);
  if (!sealed) throw handoffError('LATCH_HANDOFF_INVALID');
  await sessions.store.del(key);
  const record = await sessions.sealer.unseal<HandoffRecord>(sealed);
  if (!record || record.t !== 'handoff' || !isSession(record.s) || record.h !== request.host) throw handoffError('LATCH_HANDOFF_INVALID');
  if (!(record.exp > now)) throw handoffError('LATCH_HANDOFF_EXPIRED');
  if (request.origin !== record.o) throw handoffError('LATCH_HANDOFF_ORIGIN');
  const { verifier } = request;
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier) || !sameChallenge(s256(verifier), record.c)) {
    throw handoffError('LATCH_HANDOFF_VERIFIER');
  }
  return record.s;
}

/** The store key of a code's record (a digest: the store never holds a redeemable code). */
export const handoffKey = (code: string) => `handoff:${digest(code)}`;

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function sameChallenge(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const MESSAGES = {
  LATCH_HANDOFF_INVALID: [400, 'This sign-in hand-off code is not valid, or has been used already. Sign in again.'],
  LATCH_HANDOFF_EXPIRED: [400, 'This sign-in hand-off code has expired. Sign in again.'],
  LATCH_HANDOFF_ORIGIN: [403, 'This sign-in hand-off code was issued to another page.'],
  LATCH_HANDOFF_VERIFIER: [403, 'This sign-in hand-off code needs the verifier of the page that started the sign-in.'],
} as const;

function handoffError(code: keyof typeof MESSAGES): LatchError {
  const [status, message] = MESSAGES[code];
  return new LatchError(code, status, message);
}

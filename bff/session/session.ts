import { randomBytes } from 'node:crypto';
import type { LatchUser } from '../contract.ts';
import { DEFAULT_PROVIDER } from '../config/providers.ts';
import type { DpopKey } from '../oauth/dpop.ts';
import type { SignInResult, TokenSet } from '../providers/provider.ts';

/** What the sealed session cookie holds. Short keys: every byte counts against 4 KB. */
export interface Session {
  v: 1;
  /** Our session id, new at every sign-in. */
  sid: string;
  user: LatchUser;
  /** Access token and its expiry (epoch ms). */
  at: string;
  atExp: number;
  /** The access token's lifetime as issued, seconds (absent in sessions sealed before it was kept). */
  atl?: number;
  rt?: string;
  /** ID token, kept for the logout hint. */
  idt?: string;
  /** The authorization server's session id (`sid` claim). */
  psid?: string;
  /** Created and absolute end, epoch ms. */
  iat: number;
  exp: number;
  /**
   * Last renewal of the idle window, epoch ms (set by every write). The idle
   * end is `seen + idle timeout`; absent in sessions sealed before idle
   * timeouts existed, which count from `iat`.
   */
  seen?: number;
  /** The provider it signed in with (LATCH_PROVIDERS), absent for `default`: refresh, logout and the rest go there. */
  pv?: string;
  /** That provider's tenant, for a templated issuer. */
  pvt?: string;
  /** The ID token's `acr` at sign-in (step-up, /me). */
  acr?: string;
  /** The ID token's `auth_time` at sign-in, epoch seconds (step-up, /me). */
  ath?: number;
  /** LATCH_DPOP=true: the session's DPoP private key (bff/oauth/dpop.ts). Never leaves the BFF. */
  dk?: DpopKey;
  /**
   * Tokens for single APIs (LATCH_API_ROUTE_<NAME>_AUDIENCE, oauth/audience.ts), by audience: the
   * access token, its expiry (epoch ms) and lifetime as issued (seconds).
   */
  au?: Record<string, AudienceToken>;
}

/** One API's own access token (Session.au). Short keys: each costs cookie bytes. */
export interface AudienceToken {
  at: string;
  exp: number;
  l?: number;
}

/** Whether an API's own token is missing, expired, or will be within the refresh margin (as accessTokenStale). */
export function audienceTokenStale(session: Session, audience: string, now = Date.now()): boolean {
  const token = session.au?.[audience];
  if (!token) return true;
  const margin = token.l === undefined ? REFRESH_MARGIN_MS : Math.min(REFRESH_MARGIN_MS, (token.l * 1000) / 2);
  return token.exp - margin <= now;
}

/** The session with `audience`'s token set from a token response (oauth/audience.ts). */
export function withAudienceToken(session: Session, audience: string, tokens: TokenSet): Session {
  const token: AudienceToken = { at: tokens.accessToken, exp: tokens.expiresAt, ...(tokens.lifetime !== undefined ? { l: tokens.lifetime } : {}) };
  return { ...session, au: { ...session.au, [audience]: token } };
}

export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

export function createSession(result: SignInResult, maxAgeSeconds: number, now = Date.now()): Session {
  return {
    v: 1,
    sid: newSessionId(),
    user: result.user,
    ...tokenFields(result.tokens),
    ...(result.sid ? { psid: result.sid } : {}),
    ...(result.provider && result.provider.name !== DEFAULT_PROVIDER ? { pv: result.provider.name } : {}),
    ...(result.provider?.tenant !== undefined ? { pvt: result.provider.tenant } : {}),
    ...(result.acr !== undefined ? { acr: result.acr } : {}),
    ...(result.authTime !== undefined ? { ath: result.authTime } : {}),
    ...(result.dpopKey ? { dk: result.dpopKey } : {}),
    iat: now,
    exp: now + maxAgeSeconds * 1000,
  };
}

export function tokenFields(tokens: TokenSet): Pick<Session, 'at' | 'atExp' | 'atl' | 'rt' | 'idt'> {
  return {
    at: tokens.accessToken,
    atExp: tokens.expiresAt,
    ...(tokens.lifetime !== undefined ? { atl: tokens.lifetime } : {}),
    ...(tokens.refreshToken ? { rt: tokens.refreshToken } : {}),
    ...(tokens.idToken ? { idt: tokens.idToken } : {}),
  };
}

/** An access token is refreshed this long before it expires (or at half its lifetime, if that is later). */
export const REFRESH_MARGIN_MS = 30_000;

/**
 * Whether the access token is expired or will be within the refresh margin: `skewMs`, but at most half
 * the token's lifetime. A token that lives 20 s is refreshed 10 s before it ends, not on every request
 * (a 30 s margin would make it stale from birth).
 */
export function accessTokenStale(session: Session, skewMs = REFRESH_MARGIN_MS, now = Date.now()): boolean {
  const margin = session.atl === undefined ? skewMs : Math.min(skewMs, (session.atl * 1000) / 2);
  return session.atExp - margin <= now;
}

/** When the idle window ends, epoch ms. */
function idleEnd(session: Session, idleTimeoutMs: number): number {
  return (session.seen ?? session.iat) + idleTimeoutMs;
}

/** When the session ends: the earlier of its absolute end and its idle end, epoch ms. */
export function sessionEnd(session: Session, idleTimeoutMs: number): number {
  return Math.min(session.exp, idleEnd(session, idleTimeoutMs));
}

export function isSession(value: unknown): value is Session {
  if (!value || typeof value !== 'object') return false;
  const s = value as Partial<Session>;
  return s.v === 1 && typeof s.sid === 'string' && typeof s.at === 'string' && typeof s.exp === 'number' &&
    typeof s.iat === 'number' && (s.seen === undefined || typeof s.seen === 'number') &&
    typeof s.user === 'object' && s.user !== null && typeof s.user.sub === 'string';
}

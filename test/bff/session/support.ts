/**
 * What the session layer's unit tests share: a fresh secret, a session as a sign-in makes one, one
 * site's cookies over new sessions, and Set-Cookie values as the Cookie header a browser sends back.
 */
import { randomBytes } from 'node:crypto';
import { SessionCookies } from '../../../bff/session/session-cookies.ts';
import type { Session } from '../../../bff/session/session.ts';
import { Sessions, type SessionsOptions } from '../../../bff/session/sessions.ts';

export const secret = () => randomBytes(32).toString('base64url');

/** A session of user `u1` with a good access token (an hour) and a refresh token, `over` applied. */
export function session(over: Partial<Session> = {}): Session {
  const now = Date.now();
  return {
    v: 1, sid: randomBytes(8).toString('hex'), user: { sub: 'u1', name: 'U' }, at: 'at-1', atExp: now + 3600_000, rt: 'rt-1',
    iat: now, exp: now + 8 * 3600_000, ...over,
  };
}

/** Set-Cookie values as the Cookie header a browser sends back (cleared cookies left out). */
export const header = (setCookies: string[]) => setCookies.map((c) => c.split(';')[0]).filter((p) => !p!.endsWith('=')).join('; ');

/** One site's cookies (plain http unless `secure`) over new sessions. */
export function cookiesFor(options: Partial<SessionsOptions> = {}, secure = false): SessionCookies {
  return new SessionCookies(new Sessions({ secrets: [secret()], maxAge: 3600, ...options }), { secure });
}

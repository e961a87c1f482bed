/** What the session layer's unit tests share: a fresh secret, and a session as a sign-in makes one. */
import { randomBytes } from 'node:crypto';
import type { Session } from '../../../bff/session/session.ts';

export const secret = () => randomBytes(32).toString('base64url');

/** A session of user `u1` with a good access token (an hour) and a refresh token, `over` applied. */
export function session(over: Partial<Session> = {}): Session {
  const now = Date.now();
  return {
    v: 1, sid: randomBytes(8).toString('hex'), user: { sub: 'u1', name: 'U' }, at: 'at-1', atExp: now + 3600_000, rt: 'rt-1',
    iat: now, exp: now + 8 * 3600_000, ...over,
  };
}

import type { RouteTable } from './table.ts';
import { LatchError } from '../errors.ts';
import { readBody } from '../middleware/limits.ts';
import { digest } from '../session/store.ts';
import type { RouteDeps } from './deps.ts';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A logout token is a small JWT; its form body has no business being larger. */
const MAX_BODY_BYTES = 16 * 1024;
/** Tokens older than this are refused by the provider's verification, so a jti need not be kept longer. */
const MAX_TOKEN_AGE_MS = 300_000;
const CLOCK_TOLERANCE_MS = 30_000;

const invalid = (reason: string, cause?: unknown) => new LatchError('LATCH_BAD_REQUEST', { detail: `The logout token is invalid: ${reason}.`, cause });

export interface LogoutTokenSubject {
  sub?: string;
  sid?: string;
  jti: string;
  iss: string;
  /** Epoch ms. */
  exp: number;
  iat: number;
}

/**
 * The logout-specific checks of OIDC Back-Channel Logout 1.0 §2.6 on a token
 * whose signature, iss, aud, iat and exp the provider has verified: the
 * `events` claim names the back-channel-logout event with an object value,
 * there is no `nonce`, there is a `sub` or a `sid`, `typ` (when present) is
 * logout+jwt, and there is a `jti`. Throws 400 LATCH_BAD_REQUEST.
 */
export function checkLogoutToken(header: Record<string, unknown>, claims: Record<string, unknown>, now = Date.now()): LogoutTokenSubject {
  const typ = header['typ'];
  if (typ !== undefined) {
    const t = typeof typ === 'string' ? typ.toLowerCase().replace(/^application\//, '') : '';
    if (t !== 'logout+jwt') throw invalid(`typ is ${String(typ)}, not logout+jwt`);
  }
  const events = claims['events'];
  if (!events || typeof events !== 'object' || Array.isArray(events)) throw invalid('no events claim');
  const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (!event || typeof event !== 'object' || Array.isArray(event)) throw invalid('events does not name the back-channel logout event');
  if ('nonce' in claims) throw invalid('a logout token must not carry a nonce');
  const sub = claims['sub'];
  const sid = claims['sid'];
  if (sub !== undefined && (typeof sub !== 'string' || sub === '')) throw invalid('sub is not a string');
  if (sid !== undefined && (typeof sid !== 'string' || sid === '')) throw invalid('sid is not a string');
  if (sub === undefined && sid === undefined) throw invalid('neither sub nor sid');
  const jti = claims['jti'];
  if (typeof jti !== 'string' || jti === '') throw invalid('no jti');
  const iat = claims['iat'];
  const exp = claims['exp'];
  const iss = claims['iss'];
  if (typeof iat !== 'number' || typeof exp !== 'number' || typeof iss !== 'string') throw invalid('iat, exp or iss missing');
  // Checked by the provider too; kept here so no implementation can forget them (the jti marker's
  // lifetime relies on the age limit).
  if (iat * 1000 > now + CLOCK_TOLERANCE_MS) throw invalid('iat is in the future');
  if (iat * 1000 < now - MAX_TOKEN_AGE_MS - CLOCK_TOLERANCE_MS) throw invalid('iat is too old');
  if (exp * 1000 <= now - CLOCK_TOLERANCE_MS) throw invalid('expired');
  return { ...(typeof sub === 'string' ? { sub } : {}), ...(typeof sid === 'string' ? { sid } : {}), jti, iss, exp: exp * 1000, iat: iat * 1000 };
}

/**
 * POST /backchannel-logout: the authorization server tells us a user's
 * session there has ended (OIDC Back-Channel Logout 1.0). Exempt from CSRF:
 * the signed logout token is the authentication. After verifying it and
 * refusing a replayed jti, the matching sessions are ended on every instance
 * (deny-list in the shared store): with `sid`, those created from that
 * provider session; with only `sub`, every session of the user created
 * until now. 200 with an empty body; 400 for an invalid token; 503 when the
 * store cannot record it (the server will retry).
 */
export function backchannelRoute(router: RouteTable, deps: RouteDeps) {
  router.post('/backchannel-logout', { anyHost: true }, async (ctx) => {
    const verify = deps.provider.verifyLogoutToken?.bind(deps.provider);
    if (!verify) throw new LatchError('LATCH_NOT_FOUND', { detail: 'Back-channel logout is not offered for this authorization server.' });
    if (!ctx.is('application/x-www-form-urlencoded')) throw invalid('not application/x-www-form-urlencoded');
    const form = new URLSearchParams((await readBody(ctx, MAX_BODY_BYTES, deps.config.requestTimeoutMs)).toString('utf8'));
    const tokens = form.getAll('logout_token');
    if (tokens.length !== 1 || !tokens[0]) throw invalid('needs exactly one logout_token');

    let verified;
    try {
      verified = await verify(tokens[0]);
    } catch (err) {
      // The keys or metadata could not be fetched: the server's problem, and it may retry.
      if (err instanceof LatchError && err.status >= 500) throw err;
      throw invalid('verification failed', err);
    }
    const now = Date.now();
    const token = checkLogoutToken(verified.header, verified.claims, now);
    // A token older than the age limit is refused above, so its jti need not be remembered longer.
    const keepMs = token.iat + MAX_TOKEN_AGE_MS + 2 * CLOCK_TOLERANCE_MS - now;
    if (!(await deps.sessions.claimOnce(`jti:${digest(`${token.iss} ${token.jti}`)}`, Math.max(keepMs, CLOCK_TOLERANCE_MS)))) {
      throw invalid('jti replayed');
    }
    if (token.sid) await deps.sessions.endProviderSession(token.sid, now);
    else await deps.sessions.endAllFor(token.sub!, now);
    deps.audit?.({
      type: 'backchannel_logout',
      ...(token.sub ? { sub: token.sub } : {}),
      ...(token.sid ? { psid: token.sid } : {}),
      jti: token.jti,
      time: now,
    });
    ctx.status = 200;
    ctx.body = '';
  });
}

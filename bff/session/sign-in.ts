import type { Logger } from 'pino';
import type { AuditHook } from '../audit.ts';
import { logUserinfoFallback } from '../logger.ts';
import type { SignInResult } from '../providers/provider.ts';
import { issueHandoff, issueProof } from './handoff.ts';
import type { SessionCookies } from './session-cookies.ts';
import type { LiveSessions } from './live.ts';
import type { Session } from './session.ts';

export interface SignInOptions {
  /** The request's Cookie header: chunks of an earlier, larger session are cleared. */
  cookieHeader?: string | undefined;
  /** How the user signed in, when not through the authorization server's pages (`password`): for the log. */
  method?: 'password';
  /** `/login?proof=1`: a one-time proof of this sign-in for the page's next `/me` (handoff.ts). */
  proof?: boolean;
  /** `/login?handoff=`: no session cookie; a one-time hand-off code for this binding instead (handoff.ts). */
  handoff?: { challenge: string; origin: string; host: string } | undefined;
  /** The browser's User-Agent: the session's device label in `GET /sessions` (computed once, here). */
  userAgent?: string | undefined;
}

export interface SignedIn {
  /** The new session, as created (its idle window starts at its creation). */
  session: Session;
  /** The session cookie's Set-Cookie values; none for a hand-off. */
  setCookie: string[];
  /** The hand-off code, with `handoff`. */
  code?: string;
  /** The sign-in proof, with `proof` (never with a hand-off: the page has no cookie to miss). */
  proof?: string;
}

/**
 * A sign-in the provider completed (`/callback`, `POST /login/password`), made a session: a new
 * session id, sealed into the site's session cookie (or, for a hand-off, behind a one-time code), one
 * `login` log line and one `login` audit event. The session's claims are the result's; a userinfo
 * endpoint that could not be asked is logged here too. No Koa: the route appends `setCookie`.
 */
export async function completeSignIn(
  result: SignInResult,
  cookies: SessionCookies,
  options: SignInOptions,
  deps: { logger: Logger; audit?: AuditHook | undefined; live?: LiveSessions | undefined },
): Promise<SignedIn> {
  logUserinfoFallback(deps.logger, result);
  const { sessions } = cookies;
  const session = sessions.create(result);
  const signedIn: SignedIn = { session, setCookie: [] };
  if (options.handoff) {
    signedIn.code = await issueHandoff(sessions, session, options.handoff);
  } else {
    signedIn.setCookie = await cookies.write(session, { cookieHeader: options.cookieHeader });
    if (options.proof) signedIn.proof = await issueProof(sessions, session.sid);
  }
  await deps.live?.signedIn(session, { userAgent: options.userAgent });
  const how = { ...(options.method ? { method: options.method } : {}), sid: session.sid, ...(options.handoff ? { handoff: true } : {}) };
  deps.logger.info({ event: 'login', ...how }, 'signed in');
  deps.audit?.({ type: 'login', sid: session.sid, sub: session.user.sub, ...(session.psid ? { psid: session.psid } : {}), time: session.iat });
  return signedIn;
}

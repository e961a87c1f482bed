/**
 * The two things several routes do with a session, on the Koa side: the request's cookies found on
 * its site, and Set-Cookie values appended to its answer. The work itself is Koa-free, in session/:
 *
 * - `requestSession(ctx, deps)`: the request's session, kept fresh and written back
 *   (session/request-session.ts): `GET /me` and the API proxy.
 * - `signIn(ctx, deps, result, options)`: a completed sign-in made a session (session/sign-in.ts):
 *   `GET /callback` and `POST /login/password`.
 */
import type { Context } from 'koa';
import type { SignInResult } from '../providers/provider.ts';
import { RequestSession } from '../session/request-session.ts';
import type { SessionCookies } from '../session/session-cookies.ts';
import type { ReadSession } from '../session/sessions.ts';
import { completeSignIn, type SignedIn, type SignInOptions } from '../session/sign-in.ts';
import { siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';

/**
 * The request's live session, in the cookies it came in (the site's, or its partitioned hand-off
 * cookie's), or null when it has none (absent, ended, tampered: SessionCookies.read).
 */
export async function requestSession(ctx: Context, deps: RouteDeps): Promise<RequestSession | null> {
  const cookieHeader = ctx.req.headers.cookie;
  const cookies = siteOf(ctx).cookiesFor(cookieHeader);
  return keptFresh(ctx, deps, cookies, cookieHeader, await cookies.read(cookieHeader));
}

/**
 * requestSession()'s synchronous twin (SessionCookies.readNow): the same answer when this process has
 * it at once (a cookie seen before, nearly every /me), undefined when only requestSession() can say.
 */
export function requestSessionNow(ctx: Context, deps: RouteDeps): RequestSession | null | undefined {
  const cookieHeader = ctx.req.headers.cookie;
  const cookies = siteOf(ctx).cookiesFor(cookieHeader);
  const read = cookies.readNow(cookieHeader);
  return read === undefined ? undefined : keptFresh(ctx, deps, cookies, cookieHeader, read);
}

/** A read session made the request's: its cookies appended to the answer, and each write told to the live sessions (issue 19). */
function keptFresh(ctx: Context, deps: RouteDeps, cookies: SessionCookies, cookieHeader: string | undefined, read: ReadSession | null): RequestSession | null {
  const liveSessions = deps.live;
  return read && new RequestSession(read, cookies, deps.refresher, cookieHeader, (values) => ctx.append('Set-Cookie', values), liveSessions && ((session, refreshed) => liveSessions.written(session, refreshed)));
}

/** Completes a sign-in on the request's site: its session cookie on the answer, and the metrics told. */
export async function signIn(ctx: Context, deps: RouteDeps, result: SignInResult, options: Omit<SignInOptions, 'cookieHeader'> = {}): Promise<SignedIn> {
  // The session records its provider (the first configured one for a sign-in that names none: the password grant's).
  const signedIn = await completeSignIn(result.provider ? result : { ...result, provider: deps.providers.primary }, siteOf(ctx).cookies, { ...options, cookieHeader: ctx.get('Cookie'), userAgent: ctx.get('User-Agent') }, deps);
  if (signedIn.setCookie.length > 0) ctx.append('Set-Cookie', signedIn.setCookie);
  // For the metrics' login count, whatever the cookie's name (a path mount's, or none for a hand-off).
  ctx.state.latchSignedIn = true;
  return signedIn;
}

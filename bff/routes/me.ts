import type { Context } from 'koa';
import type { RouteTable } from './table.ts';
import type { MeResponse } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { provesBlockedCookies } from '../session/handoff.ts';
import type { Session } from '../session/session.ts';
import { sameSiteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';
import { requestSession, requestSessionNow } from './flows.ts';

/**
 * GET /me: the signed-in user's claims from the session, refreshing an expired access token first.
 * The session is the site's (or its partitioned hand-off cookie's). Without one, a `?proof=` of a
 * sign-in that just completed means the browser kept the cookie from this page: 401
 * LATCH_THIRD_PARTY_COOKIES_BLOCKED instead of LATCH_UNAUTHENTICATED. Every 401 carries `sameSite`
 * beside its `error`, as a 200 does: a signed-out page learns where it stands without signing in.
 */
export function meRoute(router: RouteTable, deps: RouteDeps) {
  router.get('/me', (ctx) => {
    // A cookie seen before with a good token and nothing to write (nearly every /me): answered with
    // no promise at all (a warm /me is the hot path: docs/bench.md). Anything else takes meAsync.
    const warm = requestSessionNow(ctx, deps);
    if (!warm?.settled) return meAsync(ctx, deps);
    answer(ctx, deps, warm.session);
    return undefined;
  });
}

async function meAsync(ctx: Context, deps: RouteDeps): Promise<void> {
  const live = await requestSession(ctx, deps);
  if (!live) {
    const code = (await provesBlockedCookies(deps.sessions, ctx.query['proof'])) ? 'LATCH_THIRD_PARTY_COOKIES_BLOCKED' : 'LATCH_UNAUTHENTICATED';
    throw new LatchError(code, { body: { sameSite: sameSiteOf(ctx.get('Sec-Fetch-Site')) } });
  }
  try {
    await live.fresh();
  } catch (err) {
    throw err instanceof LatchError && err.status === 401 ? withSameSite(err, sameSiteOf(ctx.get('Sec-Fetch-Site'))) : err;
  }
  // Written back when refreshed, sealed with an older key, or due for idle renewal (which renews it now).
  await live.save();
  answer(ctx, deps, live.session);
}

function answer(ctx: Context, deps: RouteDeps, session: Session): void {
  const sameSite = sameSiteOf(ctx.get('Sec-Fetch-Site'));
  // JSON written here, with its type: Koa's object path would sniff the body and look 'json' up in
  // its MIME table on every answer. `expiresAt`: the earlier of the absolute and the idle end.
  ctx.set('Content-Type', 'application/json; charset=utf-8');
  ctx.body = answerFor(session, sameSite, () => ({
    user: session.user, expiresAt: deps.sessions.expiresAt(session), sameSite,
    // Issue 17: the session's provider, and its sign-in's level (step-up).
    provider: deps.providers.refOf(session).name,
    ...(session.acr !== undefined ? { acr: session.acr } : {}),
    ...(session.ath !== undefined ? { authTime: session.ath } : {}),
  }));
}

/**
 * The answer for a session, serialised once per session object and `sameSite`: a warm read gets the
 * same frozen session object for the same cookie (session/sessions.ts, fast paths), so the same
 * cookie is answered without serialising its claims again. A refreshed or renewed session is a new
 * object, and so a new answer.
 */
const answers = new WeakMap<object, Map<boolean | null, string>>();

function answerFor(session: object, sameSite: boolean | null, body: () => MeResponse): string {
  let bySameSite = answers.get(session);
  if (!bySameSite) answers.set(session, (bySameSite = new Map()));
  let text = bySameSite.get(sameSite);
  if (text === undefined) bySameSite.set(sameSite, (text = JSON.stringify(body())));
  return text;
}

/** `err` with `/me`'s `sameSite` beside it in the body (ErrorBody); code, detail, cause and headers kept. */
function withSameSite(err: LatchError, sameSite: boolean | null): LatchError {
  return new LatchError(err.code, { cause: err.cause, detail: err.detail, headers: err.headers, body: { sameSite } });
}

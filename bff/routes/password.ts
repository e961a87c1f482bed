import type { RouteTable } from './table.ts';
import type { Context } from 'koa';
import type { MeResponse } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { readBody } from '../middleware/limits.ts';
import { FixedWindowLimiter, rateLimited } from '../middleware/rate-limit.ts';
import { supportsPasswordGrant } from '../providers/index.ts';
import type { RouteDeps } from './deps.ts';
import { signIn } from './flows.ts';

/** Attempts allowed per client IP, per window. */
export const PASSWORD_LIMIT_PER_IP = { max: 20, windowMs: 60_000 };
/** Attempts allowed per username (case-insensitive), per window: slows guessing one account from many IPs. */
export const PASSWORD_LIMIT_PER_USERNAME = { max: 5, windowMs: 5 * 60_000 };

const MAX_BODY_BYTES = 4096;
const MAX_USERNAME = 256;
const MAX_PASSWORD = 1024;

/**
 * POST /login/password (only when LATCH_ENABLE_PASSWORD_GRANT=true): signs in with the
 * resource owner password grant, for trusted internal tools. JSON `{username, password}`,
 * CSRF-protected like every state-changing route, rate-limited per IP and per username
 * (every attempt counts, checked before the server is asked; per instance, in memory).
 * On success it sets the same session cookie as /callback and answers like GET /me.
 */
export function passwordRoute(router: RouteTable, deps: RouteDeps) {
  if (!deps.config.enablePasswordGrant) return;
  const byIp = new FixedWindowLimiter(PASSWORD_LIMIT_PER_IP);
  const byUsername = new FixedWindowLimiter(PASSWORD_LIMIT_PER_USERNAME);

  router.post('/login/password', { csrf: true, signIn: true }, async (ctx) => {
    const { provider } = deps;
    if (!supportsPasswordGrant(provider)) {
      throw new LatchError('LATCH_NOT_FOUND', { detail: 'This server offers no password sign-in.' });
    }
    const { username, password } = await readCredentials(ctx, deps.config.requestTimeoutMs);
    for (const [limiter, key] of [[byIp, ctx.ip], [byUsername, username.trim().toLowerCase()]] as const) {
      const decision = limiter.hit(key);
      if (!decision.allowed) throw rateLimited(decision.retryAfterS);
    }
    const { session } = await signIn(ctx, deps, await provider.passwordGrant(username, password), { method: 'password' });
    const body: MeResponse = { user: session.user, expiresAt: deps.sessions.expiresAt(session) };
    ctx.body = body;
  });
}

/** The JSON body `{username, password}`, both non-empty strings; anything else is a coded 4xx. */
async function readCredentials(ctx: Context, timeoutMs: number): Promise<{ username: string; password: string }> {
  if (!ctx.is('application/json')) {
    throw new LatchError('LATCH_UNSUPPORTED_MEDIA_TYPE');
  }
  const raw = await readBody(ctx, MAX_BODY_BYTES, timeoutMs);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new LatchError('LATCH_BAD_REQUEST', { detail: 'The request body is not JSON.' });
  }
  const { username, password } = (body ?? {}) as Record<string, unknown>;
  if (
    typeof username !== 'string' || username.trim() === '' || username.length > MAX_USERNAME ||
    typeof password !== 'string' || password === '' || password.length > MAX_PASSWORD
  ) {
    throw new LatchError('LATCH_BAD_REQUEST', { detail: 'A username and a password are required.' });
  }
  return { username, password };
}

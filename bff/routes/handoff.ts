import type { RouteTable } from './table.ts';
import type { Context } from 'koa';
import type { HandoffRequest, MeResponse } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { readBody } from '../middleware/limits.ts';
import { redeemHandoff } from '../session/handoff.ts';
import { sameSiteOf, siteOf } from '../sites.ts';
import type { RouteDeps } from './deps.ts';

const MAX_BODY_BYTES = 1024;

/**
 * POST /handoff (LATCH_HANDOFF=true): the end of the partitioned-cookie hand-off
 * (docs/embedding.md). The widget's popup signed in at the BFF's own origin and the callback posted
 * a one-time code to the opener's exact origin; the page redeems it here with a credentialed,
 * CSRF-protected `POST` of `{ code, verifier }`. The code must be unused, at most 60 s old, sent
 * from the origin it was posted to, with the verifier whose S256 the sign-in started with. Then the
 * session cookie is set `Partitioned; SameSite=None; Secure`: the browser keeps it in the page's
 * partition and sends it with the page's later calls (`/me`, `/logout`, `/api/…`). Answers like
 * `GET /me`. Any refusal is a coded 400/403 without a cookie (session/handoff.ts).
 */
export function handoffRoute(router: RouteTable, deps: RouteDeps) {
  if (!deps.config.handoff) return;
  router.post('/handoff', { csrf: true }, async (ctx) => {
    const site = siteOf(ctx);
    const partitioned = site.partitioned!;
    const { code, verifier } = await readHandoff(ctx, deps.config.requestTimeoutMs);
    const session = await redeemHandoff(deps.sessions, { code, verifier, origin: ctx.get('Origin'), host: site.host });
    ctx.append('Set-Cookie', await partitioned.write(session, { cookieHeader: ctx.get('Cookie') }));
    deps.logger.info({ event: 'handoff', sid: session.sid }, 'hand-off redeemed: partitioned session cookie set');
    const body: MeResponse = { user: session.user, expiresAt: deps.sessions.expiresAt(session), sameSite: sameSiteOf(ctx.get('Sec-Fetch-Site')) };
    ctx.body = body;
  });
}

async function readHandoff(ctx: Context, timeoutMs: number): Promise<Partial<Record<keyof HandoffRequest, unknown>>> {
  if (!ctx.is('application/json')) throw new LatchError('LATCH_HANDOFF_INVALID', { detail: 'The hand-off is not sent as application/json.' });
  const raw = await readBody(ctx, MAX_BODY_BYTES, timeoutMs);
  try {
    const body: unknown = JSON.parse(raw.toString('utf8'));
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // below
  }
  throw new LatchError('LATCH_HANDOFF_INVALID', { detail: 'The hand-off body is not a JSON object.' });
}

import type { Context, Next } from 'koa';
import { CSRF_HEADER } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { siteOrigins } from '../sites.ts';

/** Headers on every answer: nothing the BFF says may be cached or framed or sniffed. */
export async function securityHeaders(ctx: Context, next: Next) {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  await next();
}

const PREFLIGHT_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const PREFLIGHT_HEADERS = ['content-type', CSRF_HEADER, 'accept', 'accept-language'];
/** Exact method names: a substring test would approve "T" or "POST, PUT". */
const PREFLIGHT_METHOD_SET = new Set(PREFLIGHT_METHODS.split(', '));

/**
 * CORS for the allowed origins only: the exact origin is echoed, with
 * credentials and Vary: Origin. Headers are set before the route runs, so
 * error answers carry them too. Other origins get no CORS headers at all.
 * The allowed origins are the request's site's (sites.ts) once it is known;
 * `allowedOrigins` only until then.
 */
export function cors(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return async function corsMiddleware(ctx: Context, next: Next) {
    ctx.vary('Origin');
    const origin = ctx.get('Origin');
    const ok = origin !== '' && (siteOrigins(ctx) ?? allowed).has(origin);
    if (ok) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Credentials', 'true');
    }
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method')) {
      const method = ctx.get('Access-Control-Request-Method').toUpperCase();
      const requested = ctx.get('Access-Control-Request-Headers')
        .split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
      if (!ok || !PREFLIGHT_METHOD_SET.has(method) || !requested.every((h) => PREFLIGHT_HEADERS.includes(h))) {
        throw new LatchError('LATCH_ORIGIN_NOT_ALLOWED', 403, 'This cross-origin request is not allowed.');
      }
      ctx.set('Access-Control-Allow-Methods', PREFLIGHT_METHODS);
      ctx.set('Access-Control-Allow-Headers', PREFLIGHT_HEADERS.join(', '));
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    await next();
  };
}

/**
 * CSRF for state-changing routes: the custom header (which a cross-site form
 * cannot send without a CORS preflight we refuse) plus an allowed Origin, or
 * a same-origin / same-site fetch when the browser sends no Origin. The
 * allowed origins are the request's site's (sites.ts) once it is known.
 */
export function requireCsrf(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return async function csrf(ctx: Context, next: Next) {
    if (ctx.get(CSRF_HEADER) !== '1') {
      throw new LatchError('LATCH_CSRF', 403, 'Missing the Latch-CSRF header.');
    }
    const origin = ctx.get('Origin');
    const site = ctx.get('Sec-Fetch-Site');
    const originOk = origin !== '' ? (siteOrigins(ctx) ?? allowed).has(origin) : site === 'same-origin' || site === 'same-site';
    if (!originOk) {
      throw new LatchError('LATCH_ORIGIN_NOT_ALLOWED', 403, 'This origin may not call the BFF.');
    }
    await next();
  };
}

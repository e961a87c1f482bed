import type { Context } from 'koa';
import { CSRF_HEADER } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { siteOrigins } from '../sites.ts';

/** Headers on every answer: nothing the BFF says may be cached or framed or sniffed. */
export function setSecurityHeaders(ctx: Context): void {
  const res = ctx.res;
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

const PREFLIGHT_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const PREFLIGHT_HEADERS = ['content-type', CSRF_HEADER, 'accept', 'accept-language'];
/** Exact method names: a substring test would approve "T" or "POST, PUT". */
const PREFLIGHT_METHOD_SET = new Set(PREFLIGHT_METHODS.split(', '));

/**
 * CORS for the allowed origins only: the exact origin is echoed, with credentials and Vary: Origin.
 * Headers are set before the route runs, so error answers carry them too. Other origins get no CORS
 * headers at all. The allowed origins are the request's site's (sites.ts) once it is known;
 * `allowedOrigins` only until then. Returns true when it answered the request (a preflight: 204, or
 * 403 LATCH_ORIGIN_NOT_ALLOWED thrown); the request then goes no further.
 */
export function cors(allowedOrigins: readonly string[]): (ctx: Context) => boolean {
  const allowed = new Set(allowedOrigins);
  return function applyCors(ctx: Context): boolean {
    // First to set Vary (security headers set none): no need to merge with an earlier value.
    const res = ctx.res;
    if (res.hasHeader('Vary')) ctx.vary('Origin');
    else res.setHeader('Vary', 'Origin');
    const origin = ctx.get('Origin');
    const ok = origin !== '' && (siteOrigins(ctx) ?? allowed).has(origin);
    if (ok) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (ctx.method !== 'OPTIONS' || !ctx.get('Access-Control-Request-Method')) return false;
    const method = ctx.get('Access-Control-Request-Method').toUpperCase();
    const requested = ctx.get('Access-Control-Request-Headers')
      .split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
    if (!ok || !PREFLIGHT_METHOD_SET.has(method) || !requested.every((h) => PREFLIGHT_HEADERS.includes(h))) {
      throw new LatchError('LATCH_ORIGIN_NOT_ALLOWED', { detail: 'A preflight from an origin, or for a method or headers, that the BFF does not allow.' });
    }
    ctx.set('Access-Control-Allow-Methods', PREFLIGHT_METHODS);
    ctx.set('Access-Control-Allow-Headers', PREFLIGHT_HEADERS.join(', '));
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
    return true;
  };
}

/**
 * CSRF for state-changing routes (those that declare `csrf` where they register: the route table runs
 * this check first on them): the custom header (which a cross-site form cannot send without a CORS
 * preflight we refuse) plus an allowed Origin, or a same-origin / same-site fetch when the browser
 * sends no Origin. The allowed origins are the request's site's (sites.ts) once it is known.
 */
export function requireCsrf(allowedOrigins: readonly string[]): (ctx: Context) => void {
  const allowed = new Set(allowedOrigins);
  return function csrf(ctx: Context): void {
    if (ctx.get(CSRF_HEADER) !== '1') {
      throw new LatchError('LATCH_CSRF');
    }
    const origin = ctx.get('Origin');
    const site = ctx.get('Sec-Fetch-Site');
    const originOk = origin !== '' ? (siteOrigins(ctx) ?? allowed).has(origin) : site === 'same-origin' || site === 'same-site';
    if (!originOk) {
      throw new LatchError('LATCH_ORIGIN_NOT_ALLOWED');
    }
  };
}

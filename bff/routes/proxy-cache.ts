/**
 * The proxy's Cache-Control (routes/proxy.ts; not a route of its own): what an upstream's answer may
 * say about caching once it has gone through the BFF. Every proxied request carried an Authorization
 * header (the user's token, or the BFF's service token), so its answer is someone's: a shared cache (a
 * CDN, a corporate proxy) must never keep it, which RFC 9111 §3.5 already says of answers to requests
 * with Authorization unless they say `public` or `s-maxage`. Those two are exactly what we take away:
 *
 * - GET and HEAD answers of a cacheable status keep the upstream's directives, `public` made `private`,
 *   `s-maxage` and `proxy-revalidate` (shared caches' business) dropped, `private` added when neither
 *   it nor `no-store` is there, and a field-qualified `private="…"` made whole;
 * - anything else (another method, another status, no Cache-Control upstream) keeps the BFF's
 *   `no-store` (middleware/security.ts).
 *
 * The browser's own cache is per browser profile, not per user: an answer kept for one user could be
 * shown to the next person signing in on that browser. So a cacheable answer also varies on Cookie (a
 * new session is a new cookie, and a cached answer of the old one no longer matches).
 */

/** Statuses cacheable by default (RFC 9110 §15.1), and 304: the only ones whose directives pass. */
const CACHEABLE_STATUS = new Set([200, 203, 204, 206, 300, 301, 304, 308, 404, 405, 410, 414, 501]);
const SHARED_ONLY = new Set(['public', 's-maxage', 'proxy-revalidate']);
/** A directive: a token, optionally `=token` or `="quoted"`. */
const DIRECTIVE = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*(?:,|$)/gy;

/**
 * The Cache-Control the proxy answers with for `method`, `status` and the upstream's value, or
 * undefined to keep `no-store`. A value that does not parse is treated as none.
 */
export function proxyCacheControl(method: string, status: number, upstream: string | string[] | undefined): string | undefined {
  if ((method !== 'GET' && method !== 'HEAD') || !CACHEABLE_STATUS.has(status) || upstream === undefined) return undefined;
  const value = Array.isArray(upstream) ? upstream.join(', ') : upstream;
  if (value.length > 1024) return undefined;
  const out: string[] = [];
  let isPrivate = false;
  let noStore = false;
  DIRECTIVE.lastIndex = 0;
  while (DIRECTIVE.lastIndex < value.length) {
    const start = DIRECTIVE.lastIndex;
    const m = DIRECTIVE.exec(value);
    if (!m || DIRECTIVE.lastIndex === start) return undefined;
    const name = m[1]!.toLowerCase();
    if (SHARED_ONLY.has(name)) continue;
    if (name === 'private') {
      if (!isPrivate) out.push('private');
      isPrivate = true;
      continue;
    }
    if (name === 'no-store') noStore = true;
    out.push(m[2] === undefined ? name : `${name}=${m[2]}`);
  }
  if (out.length === 0) return undefined;
  if (!isPrivate && !noStore) out.unshift('private');
  return out.join(', ');
}

import { parse, serialize, type SerializeOptions } from 'cookie';

/**
 * A sealed value longer than this is split across numbered cookies. 3800
 * leaves room for the name and attributes under the 4096-byte limit browsers
 * enforce per cookie.
 */
export const CHUNK_BYTES = 3800;

/**
 * At most this many cookies for one value. Three chunks (~11 KB) keep the
 * whole Cookie header under Node's and most proxies' 16 KB header limit with
 * room to spare; a larger session is refused (LATCH_SESSION_TOO_LARGE) and
 * belongs server-side (LATCH_SESSION_STORE=redis).
 */
export const MAX_CHUNKS = 3;

export interface CookiePolicy {
  /** https deployments: Secure cookies with the `__Host-` prefix (`__Secure-` under a path). */
  secure: boolean;
  /**
   * The cookies' Path: `/` (default), or a site's path mount (`/latch`), which keeps them off the
   * rest of the microsite. `__Host-` requires `Path=/`, so a path takes `__Secure-` instead.
   */
  path?: string;
  /**
   * The partitioned hand-off's cookie (docs/embedding.md): `SameSite=None; Partitioned` (CHIPS), kept
   * by the browser in the embedding site's partition. Needs `secure`.
   */
  partitioned?: boolean;
}

export function cookieName(policy: CookiePolicy, base: string): string {
  if (!policy.secure) return base;
  return policy.path && policy.path !== '/' ? `__Secure-${base}` : `__Host-${base}`;
}

export function parseCookies(header: string | undefined): Record<string, string> {
  if (!header) return {};
  try {
    return parse(header) as Record<string, string>;
  } catch {
    return {};
  }
}

export function serializeCookie(policy: CookiePolicy, name: string, value: string, maxAgeSeconds: number, extra: SerializeOptions = {}): string {
  return serialize(name, value, {
    httpOnly: true,
    secure: policy.secure,
    sameSite: policy.partitioned ? 'none' : 'lax',
    path: policy.path ?? '/',
    ...(policy.partitioned ? { partitioned: true } : {}),
    maxAge: maxAgeSeconds,
    ...extra,
  });
}

export function clearCookie(policy: CookiePolicy, name: string): string {
  return serializeCookie(policy, name, '', 0, { expires: new Date(0) });
}

/**
 * Chunk naming. A value that fits is one cookie, `<name>=<value>`. A longer
 * one becomes N cookies (2 <= N <= MAX_CHUNKS):
 *
 *     <name>=<N>.<part 0>   <name>.1=<part 1>   ...   <name>.<N-1>=<part N-1>
 *
 * The count travels in the first cookie, so a reader joins exactly the parts
 * written together: a leftover `<name>.2` from an earlier, larger session is
 * never glued on. (A whole iron seal starts with `Fe26.2*`, never a digit and
 * a dot, so the two forms cannot be confused.)
 */
export function chunkName(name: string, index: number): string {
  return index === 0 ? name : `${name}.${index}`;
}

/** Splits `value` into cookie values, or null when it needs more than MAX_CHUNKS. */
export function splitChunks(value: string, chunkBytes = CHUNK_BYTES): string[] | null {
  if (value.length <= chunkBytes) return [value];
  // Seals are ASCII, so characters are bytes. The first chunk carries "N." too.
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += chunkBytes) parts.push(value.slice(i, i + chunkBytes));
  if (parts.length > MAX_CHUNKS) return null;
  parts[0] = `${parts.length}.${parts[0]}`;
  return parts;
}

const CHUNKED = /^([2-9])\.(.*)$/s;

/** Joins the parts of `name` from parsed cookies; null when absent, malformed or incomplete. */
export function joinChunks(cookies: Record<string, string>, name: string): string | null {
  const first = cookies[name];
  if (!first) return null;
  const m = CHUNKED.exec(first);
  if (!m) return first;
  const count = Number(m[1]);
  if (count > MAX_CHUNKS) return null;
  let joined = m[2]!;
  for (let i = 1; i < count; i++) {
    const part = cookies[chunkName(name, i)];
    if (!part) return null;
    joined += part;
  }
  return joined;
}

/** Names of chunk cookies (`<name>.<i>`, i >= 1) present in the parsed cookies. */
export function presentChunkNames(cookies: Record<string, string>, name: string): string[] {
  const prefix = `${name}.`;
  return Object.keys(cookies).filter((key) => key.startsWith(prefix) && /^\d{1,2}$/.test(key.slice(prefix.length)));
}

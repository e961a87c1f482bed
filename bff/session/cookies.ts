import { parse, serialize, type SerializeOptions } from 'cookie';

/** The browser's limit for one cookie (name, value and attributes). */
export const MAX_COOKIE_BYTES = 4096;

export interface CookiePolicy {
  /** https deployments: Secure cookies with the `__Host-` prefix. */
  secure: boolean;
}

export function cookieName(policy: CookiePolicy, base: string): string {
  return policy.secure ? `__Host-${base}` : base;
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
    sameSite: 'lax',
    path: '/',
    maxAge: maxAgeSeconds,
    ...extra,
  });
}

export function clearCookie(policy: CookiePolicy, name: string): string {
  return serializeCookie(policy, name, '', 0, { expires: new Date(0) });
}

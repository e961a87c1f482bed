/**
 * The hand-over from `POST /logout` to the authorization server's sign-out page, without a token ever
 * reaching page JavaScript. The provider's logout URL carries the ID token as `id_token_hint` (SCAYLE's
 * carries a signed JWT naming the access token), and `POST /logout` answers JSON that the calling page
 * reads through CORS. So the page gets a BFF address instead, `GET /logout/end?handle=…`, whose handle
 * is that URL sealed (iron, AES-256-CBC + HMAC-SHA256) for HANDLE_TTL_S; the browser's top-level
 * navigation to it is answered with a redirect to the provider, the hint added there, server-side.
 *
 * Sealed rather than kept in the store, so that it opens on any instance (a Lambda deployment without
 * Redis is many instances). Single use on top of its short life: the first opening claims it in the
 * store (shared with Redis), so the address in the browser's history leads nowhere afterwards.
 * No Koa here.
 */
import type { Sessions } from './sessions.ts';
import { digest } from './store.ts';

/** How long a handle opens, seconds: the page navigates to it as soon as `POST /logout` answers. */
export const HANDLE_TTL_S = 60;

interface LogoutHandle {
  t: 'logout';
  /** The provider's logout URL, hint included. */
  u: string;
  /** The site (host) that issued it: another site's `/logout/end` does not open it. */
  h: string;
}

/** Seals the provider's logout URL for `host` into a handle for `GET /logout/end?handle=`. */
export function issueLogoutHandle(sessions: Sessions, providerUrl: string, host: string): Promise<string> {
  const handle: LogoutHandle = { t: 'logout', u: providerUrl, h: host };
  return sessions.sealer.seal(handle, HANDLE_TTL_S);
}

/**
 * The provider's logout URL a handle stands for, or null: not a handle, tampered, expired, issued by
 * another site, or opened before. While the store is down, whether it was opened before cannot be
 * told: it opens anyway (its 60 s life still bounds it; the user's sign-out matters more), and
 * `unchecked` hears why.
 */
export async function openLogoutHandle(
  sessions: Sessions,
  handle: unknown,
  host: string,
  unchecked?: (err: unknown) => void,
): Promise<string | null> {
  if (typeof handle !== 'string' || handle === '' || handle.length > 8192) return null;
  const data = await sessions.sealer.unseal<LogoutHandle>(handle);
  if (!data || data.t !== 'logout' || typeof data.u !== 'string' || data.h !== host) return null;
  try {
    // iron allows 60 s of clock skew past the seal's expiry: the marker outlives both.
    if (!(await sessions.claimOnce(`logout:${digest(handle)}`, (HANDLE_TTL_S + 60) * 1000))) return null;
  } catch (err) {
    unchecked?.(err);
  }
  return data.u;
}

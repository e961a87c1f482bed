/**
 * What the widget keeps in the browser's storage, by key. Its own module so that chunks can name
 * the keys without importing the session (which would be a second session in a chunk).
 */

/**
 * localStorage (the whole site, every tab): the user signed out explicitly, without the provider's
 * sign-out page (or their session was ended from elsewhere), so no silent sign-in until the next
 * sign-in (../chunks/silent.ts).
 */
export const SIGNED_OUT = 'latch:signed-out';

/**
 * sessionStorage: when this tab last tried a silent sign-in, epoch ms (at most one per 5 minutes);
 * or PROVIDER_SIGN_OUT.
 */
export const SILENT_AT = 'latch:silent';

/**
 * SILENT_AT's value while this tab is away at the provider's sign-out page (`logoutUrl`): back here,
 * the silent sign-in goes straight to its top-level variant, which sees the provider's session where
 * a frame may not (../chunks/silent.ts).
 */
export const PROVIDER_SIGN_OUT = 'provider';

/** Storage that may be blocked (a sandboxed frame, some privacy settings): `fn`, else nothing. */
export function store(fn: () => void): void {
  try {
    fn();
  } catch {
    /* storage blocked: the widget goes on without what it would have kept */
  }
}

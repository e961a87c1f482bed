/**
 * Sign-out: `POST /logout` at the BFF, the other tabs told, then the authorization server's logout
 * URL if it has one. A plain function of the port: the account menu (../chunks/menu.ts) has its own
 * copy; `latch.logout()` loads it as ../chunks/logout.ts.
 *
 * Without a logout URL, the provider's session is still there: a silent sign-in
 * (../chunks/silent.ts) would undo this sign-out, so it is remembered (for the site, in
 * localStorage) until the next sign-in. With one, the provider's page decides: a user who stays
 * signed in there comes back to a page whose silent sign-in (its one attempt, whatever this tab
 * tried in the last 5 minutes) signs them in again.
 */
import type { LogoutResponse } from '../../bff/contract.ts';
import type { LatchPort } from '../port.ts';
import { CSRF_HEADER, type LatchError, request } from './bff.ts';
import { PROVIDER_SIGN_OUT, SIGNED_OUT, SILENT_AT, store } from './storage.ts';

/** Signs out; its events go from `from` (the element the user acted on). */
export async function logout({ config, state, io, apply, fail }: LatchPort, from?: Element): Promise<void> {
  let logoutUrl: string | null = null;
  try {
    ({ logoutUrl } = await request<LogoutResponse>(
      config.bff + '/logout',
      { method: 'POST', headers: { [CSRF_HEADER]: '1' } },
      config.timeout,
    ));
  } catch (e) {
    // 401: there was no session left to end.
    if ((e as LatchError).status != 401) return fail(e as LatchError);
  }
  // Through the provider's logout page, the user may choose to stay signed in there: back here, the
  // page load's silent sign-in brings them back, however recently this tab tried one.
  store(() => (logoutUrl ? sessionStorage.setItem(SILENT_AT, PROVIDER_SIGN_OUT) : localStorage.setItem(SIGNED_OUT, '1')));
  state.error = null;
  apply(null, true, null, from);
  if (logoutUrl) io.go(logoutUrl);
}

/**
 * A sign-in for a user who stays signed in meanwhile (a step-up, "Stay signed in"): the BFF's
 * `/login` with `params`, in a popup, while the session keeps its state (no "Signing in…"). A plain
 * function: the chunks that need it (../chunks/stepup.ts, ../chunks/expiry.ts) have their own copy.
 */
import type { LatchPort } from '../port.ts';
import { wait } from './popup.ts';

/** How it ended; `blocked`: the browser opened no popup (nothing else happened). */
export type ReauthOutcome = 'done' | 'failed' | 'cancelled' | 'blocked';

/** `/login?…` for this page, with `params` (empty values left out). */
export function loginUrl({ config }: LatchPort, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams({ returnTo: location.href });
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  return config.bff + '/login?' + q;
}

/**
 * Signs in again in a popup; `done` once the popup said so and `/me` has the new session (which
 * the other tabs are told of). `failed` carries nothing more: the popup's error is the BFF's
 * (LATCH_STEP_UP_FAILED, access_denied...), and the session stays as it was.
 */
export async function reauth(port: LatchPort, params: Record<string, string | undefined>): Promise<ReauthOutcome> {
  const win = port.io.open(loginUrl(port, { ...params, mode: 'popup' }));
  if (!win) return 'blocked';
  const msg = await wait(win, port.config.bff);
  if (!msg) return 'cancelled';
  if (!msg.ok) return 'failed';
  await port.refresh(true);
  return port.state.user ? 'done' : 'failed';
}

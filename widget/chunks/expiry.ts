/**
 * The warning ahead of the session's end, in `<latch-login>` beside the account button, with "Stay
 * signed in" (WCAG 2.2.1: a warning, and a simple way to extend). Shown once `latch-expiring` has
 * gone out without a listener calling `preventDefault()` (./events.ts), until the session has a new
 * end or ends. The warning is a `role="alert"`: said at once, without taking focus.
 *
 * "Stay signed in", without leaving the page: `/me` first (a session renewed by activity, or a
 * refresh, has a later end); else a silent sign-in in a hidden frame (./silent.ts); else a sign-in
 * in a popup. If none gives the session a later end, the warning says so (save your work).
 *
 * Not in the bundle (dist/latch-expiry.js): loaded when the warning shows.
 */
import { reauth } from '../client/reauth.ts';
import { expiry as words } from '../i18n/en.ts';
import { withWords } from '../i18n/index.ts';
import { adopt, css } from '../elements/sheet.ts';
import type { LatchPort, LatchView } from '../port.ts';
import type { Silent } from './silent.ts';

const styles = css`
  [part='warning'] {
    padding: 0.25em 0.5em;
    border-radius: var(--_r);
    background: var(--_b);
  }
`;

/** Each element's "Stay signed in": under way, or failed. */
const states = new WeakMap<Element, { busy?: boolean; failed?: boolean }>();

/** Tries to give the session a later end than it has; true when it did. */
export async function staySignedIn(port: LatchPort, from?: Element): Promise<boolean> {
  const { state, refresh, load } = port;
  const end = state.expiresAt ?? 0;
  const later = () => !!state.user && (state.expiresAt ?? 0) > end;
  await refresh();
  if (later()) return true;
  const silent = await load<Silent>('silent').catch(() => null);
  if (await silent?.(port, null, from, true)) if (later()) return true;
  await reauth(port, { provider: state.provider ?? undefined });
  return later();
}

const view: LatchView = (port, host, t) => {
  const { html } = port;
  adopt(host, styles);
  const w = withWords(t, words);
  const st = states.get(host) ?? {};
  states.set(host, st);
  const stay = async (): Promise<void> => {
    const hadFocus = host.matches(':focus-within');
    Object.assign(st, { busy: true, failed: false });
    host.requestUpdate();
    st.failed = !(await staySignedIn(port, host));
    st.busy = false;
    host.requestUpdate();
    await host.updateComplete;
    // Done: the warning went, with the focused button; focus goes to the account button.
    if (hadFocus && document.activeElement == document.body) host.shadowRoot!.querySelector('button')?.focus();
  };
  return html`<span part="warning" role="alert">${st.failed ? w.stayFailed : w.expiring}</span>
    <button class="b" part="button" ?disabled=${!!st.busy} aria-busy=${!!st.busy} @click=${stay}>${w.staySignedIn}</button>`;
};

export default view;

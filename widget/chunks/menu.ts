/**
 * `<latch-login>`'s account menu, and its session panel. The menu holds "Sign out" and "Your
 * sessions"; the panel, in the menu's place, lists the user's sessions (`GET /sessions`), with
 * "Sign out" for each other one (`DELETE /sessions/<id>`) and "Sign out all others" (a DELETE for
 * each: the current session stays, with no new sign-in; `POST /logout?everywhere=1` would end this
 * one too).
 *
 * Not in the bundle (dist/latch-menu.js, loaded the first time a menu opens: focus stays on the
 * account button meanwhile). Keys: ../elements/menu.ts. The panel is a non-modal dialog named "Your
 * sessions"; Escape closes it with focus back on the account button, and what its buttons did is
 * said in its own polite live region.
 */
import type { LatchSessionInfo, SessionsResponse } from '../../bff/contract.ts';
import { CSRF_HEADER, type LatchError, request } from '../client/bff.ts';
import { logout } from '../client/logout.ts';
import { failure, menu as words } from '../i18n/en.ts';
import { langOf, withWords } from '../i18n/index.ts';
import { menuKeys, menuStyles } from '../elements/menu.ts';
import { adopt, css } from '../elements/sheet.ts';
import type { LatchHost, LatchPort, LatchView } from '../port.ts';

const styles = css`
  .p {
    display: grid;
    gap: 0.5em;
    min-width: 18em;
    padding: 0.75em;
    color: var(--_f);
  }
  .p ul {
    display: grid;
    gap: 0.5em;
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .p li {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 0.75em;
  }
  .p small {
    display: block;
  }
  .p p {
    margin: 0;
  }
  .p button {
    padding: 0.25em 0.75em;
    border: 1px solid var(--_l);
    border-radius: var(--_r);
    background: var(--_b);
  }
`;

/** One element's panel: open or not, the sessions (or the failure's code), what was last said. */
interface Panel {
  open?: boolean;
  sessions?: LatchSessionInfo[];
  code?: string;
  said?: string;
}

const panels = new WeakMap<Element, Panel>();

/** "5 minutes ago", in the element's language when the widget speaks it, else English. */
function ago(at: number, lang: string): string {
  const s = (at - Date.now()) / 1000;
  const [n, unit] =
    s > -60 ? [s, 'second'] : s > -3600 ? [s / 60, 'minute'] : s > -86400 ? [s / 3600, 'hour'] : [s / 86400, 'day'];
  return new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }).format(Math.round(n), unit as Intl.RelativeTimeFormatUnit);
}

/** Ends session `id` of the user; true when it is gone (404: it was already). */
const end = ({ config }: LatchPort, id: string): Promise<boolean> =>
  fetch(config.bff + '/sessions/' + encodeURIComponent(id), {
    method: 'DELETE',
    credentials: 'include',
    headers: { [CSRF_HEADER]: '1' },
    signal: AbortSignal.timeout(config.timeout),
  }).then(
    (res) => res.ok || res.status == 404,
    () => false,
  );

const view: LatchView = (port, host, t, done) => {
  const { html, config, overrides } = port;
  adopt(host, menuStyles + styles);
  const w = withWords(withWords(t, words), failure);
  const panel = panels.get(host) ?? {};
  panels.set(host, panel);
  const close = () => {
    panel.open = false;
    done();
  };
  menuKeys(host, close);
  const rerender = async (focus?: string) => {
    host.requestUpdate();
    await host.updateComplete;
    if (focus) host.shadowRoot!.querySelector<HTMLElement>(focus)?.focus();
  };

  if (!panel.open)
    return html`<div id="menu" part="menu" role="menu" aria-label=${w.account}>
      <button part="menu-item" role="menuitem" tabindex="-1" @click=${() => logout(port, host)}>${w.signOut}</button>
      <button part="menu-item" role="menuitem" tabindex="-1" @click=${() => show()}>${w.sessions}</button>
    </div>`;

  /** Opens the panel, focused, and asks for the sessions. */
  async function show(): Promise<void> {
    Object.assign(panel, { open: true, sessions: undefined, code: undefined, said: undefined });
    await rerender('.p');
    try {
      panel.sessions = (await request<SessionsResponse>(config.bff + '/sessions', {}, config.timeout)).sessions;
    } catch (e) {
      panel.code = (e as LatchError).code;
    }
    await rerender();
  }

  /** Signs out the `others` (the focused button goes with them: focus moves to the panel's next). */
  async function signOut(others: LatchSessionInfo[], said: string): Promise<void> {
    const gone = await Promise.all(others.map((s) => end(port, s.id)));
    panel.sessions = panel.sessions!.filter((s) => !others.some((o, i) => gone[i] && o.id == s.id));
    panel.said = gone.every(Boolean) ? said : w.LATCH_UNREACHABLE;
    await rerender();
    if (!host.shadowRoot!.activeElement) host.shadowRoot!.querySelector<HTMLElement>('.p button')?.focus();
  }

  const l = langOf(host);
  const lang = /^(de|fr|es)$/.test(l) || overrides[l] ? l : 'en';
  const { sessions, code } = panel;
  const others = sessions?.filter((s) => !s.current) ?? [];
  const status = code
    ? code == 'LATCH_NOT_FOUND'
      ? w.sessionsOff
      : w[code] || w.error
    : !sessions
      ? w.loadingSessions
      : '';
  return html`<div class="p" part="panel" role="dialog" aria-label=${w.sessions} tabindex="-1">
    <ul>
      ${(sessions ?? []).map(
        (s) => html`<li>
          <span>${s.device}<small>${s.current ? w.thisDevice : w.lastSeen.replace('{time}', ago(s.lastSeenAt, lang))}</small></span>
          ${s.current
            ? ''
            : html`<button
                aria-label=${w.signOutDevice.replace('{device}', s.device)}
                @click=${() => signOut([s], w.deviceSignedOut.replace('{device}', s.device))}
              >
                ${w.signOut}
              </button>`}
        </li>`,
      )}
    </ul>
    ${sessions && !others.length ? html`<p>${w.noOthers}</p>` : ''}
    ${others.length ? html`<button @click=${() => signOut(others, w.othersSignedOut)}>${w.signOutOthers}</button>` : ''}
    <button @click=${() => (close(), rerender('button'))}>${w.close}</button>
    <p role="status">${panel.said || status}</p>
  </div>`;
};

export default view;

import { html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import type { LatchProvider, LatchUser } from '../../bff/contract.ts';
import { login, port, state, type LatchLoginMode } from '../client/session.ts';
import { en, type LatchStrings } from '../i18n/en.ts';
import { lazy } from '../lazy.ts';
import type { LatchView } from '../port.ts';
import { LatchElement } from './base.ts';
import { styles } from './login.styles.ts';
import { optionsOf } from './options.ts';

/** The name shown for `user`: the first claim it has of name, preferred_username, email, sub. */
const nameOf = (user: LatchUser): string => String(user.name || user.preferred_username || user.email || user.sub);

/** The words for the session's error (its code's, else the general ones); null without one. */
const errorWords = (t: LatchStrings): string | null => state.error && (t[state.error.code] || t.error);

/** Why the session ended, in words (../chunks/start.ts brings the English ones); null when not known. */
const endedWords = (t: LatchStrings): string | null | undefined => state.reason && t['ended_' + state.reason];

/** `GET /providers`' list (../chunks/start.ts asks for it once signed out), or the promise of it. */
const page = port.page as { providers?: LatchProvider[] | Promise<LatchProvider[]>; warn?: boolean };

/**
 * The sign-in button, and once signed in the user's avatar and name with a
 * menu that holds "Sign out" and the session panel.
 *
 * States (from the shared session): loading (a placeholder of the button's
 * size, so nothing shifts), signed out (with why the session ended, when the
 * widget knows), signing in (the button is disabled and `aria-busy`), signed in,
 * and error (words for the code, and "Retry").
 * With mode="password", signed out shows a username and password form instead
 * of the button. With several providers and no `provider`, "Sign in" opens a
 * menu of them. State changes are announced through a polite live region.
 * What the first paint does not need comes from chunks beside the bundle
 * (../chunks/): the menu, the chooser, the error state, the form, the warning.
 *
 * @tagname latch-login
 * @summary Sign-in button and account menu.
 * @attr {string} bff - The BFF's base URL. The first Latch element's `bff` (or `latch.configure({ bff })`) serves the whole page.
 * @attr {LatchLoginMode} mode - `redirect` (default), `popup` (a blocked popup falls back to a redirect), `password`: a username and password form, posted to the BFF (loaded on demand, from `latch-password.js` beside the bundle), or `handoff`: a popup, then the partitioned-cookie hand-off, for a BFF on another site (docs/embedding.md; loaded on demand, from `latch-handoff.js`).
 * @attr {string} provider - The provider to sign in with (`/login?provider=`). Without it, and with several providers (`GET /providers`), "Sign in" opens a menu of them (loaded on demand, from `latch-chooser.js`).
 * @attr {'true' | 'false'} silent - `true`: when `/me` finds no session (or the session expired), first try to sign in without a click (`prompt=none`, in a hidden frame, else a top-level redirect), at most once per page load and per 5 minutes, never after an explicit sign-out (loaded on demand, from `latch-silent.js`).
 * @attr {string} return-to - Where to come back to after signing in. Default: this page.
 * @attr {string} login-hint - Passed to the BFF's `/login` as `login_hint`.
 * @attr {string} organization - Passed as `organization_id`.
 * @attr {string} connection - Passed as `connection_id`.
 * @attr {'login' | 'create' | 'select_account' | 'none'} prompt - `login`, `create`, `select_account` or `none`.
 * @attr {string} lang - Language of the element's strings (else the nearest `lang`, else `<html lang>`): en built in; de, fr, es load on demand.
 *
 * @csspart button - The sign-in, retry, account (menu) and "Stay signed in" buttons.
 * @csspart skeleton - The placeholder shown while loading.
 * @csspart avatar - The user's picture, or their initial when there is none.
 * @csspart name - The user's name in the account button.
 * @csspart menu - The account menu, and the menu of providers.
 * @csspart menu-item - An item of either menu ("Sign out", "Your sessions", a provider).
 * @csspart icon - A provider's icon in the menu of providers.
 * @csspart panel - The session panel (the account menu's "Your sessions").
 * @csspart reason - Why the session ended, beside "Sign in".
 * @csspart warning - The warning ahead of the session's end, beside "Stay signed in".
 * @csspart error - The error's words.
 * @csspart form - The password form (mode="password").
 * @csspart label - The password form's labels.
 * @csspart input - The password form's username and password fields.
 *
 * @cssproperty --latch-accent - Button background (and focus ring). Light #1d4ed8, dark #93c5fd.
 * @cssproperty --latch-on-accent - Text on the accent colour. Light #fff, dark #0b1220.
 * @cssproperty --latch-bg - Background of the account button, the menus, the panel, the warning and the error. Light #fff, dark #1f2937.
 * @cssproperty --latch-fg - Text colour. Light #111827, dark #f9fafb.
 * @cssproperty --latch-border - Borders, the placeholder, the hovered item. Light #d1d5db, dark #4b5563.
 * @cssproperty --latch-error - Colour of the error's words. Light #b91c1c, dark #fca5a5.
 * @cssproperty --latch-focus - Focus ring colour. Default: the accent.
 * @cssproperty --latch-radius - Corner radius. Default 6px.
 * @cssproperty --latch-font - Font family. Default system-ui, sans-serif.
 *
 * @event {CustomEvent<LatchLoginDetail>} latch-login - The user signed in. `detail: { user }`.
 * @event {CustomEvent<LatchLogoutDetail>} latch-logout - The user is signed out. `detail: { user }` (who was signed in).
 * @event {CustomEvent<LatchSessionState>} latch-session-change - The shared session changed. `detail`: a snapshot of `latch.session` (`reason`: why a session ended).
 * @event {CustomEvent<LatchErrorInfo>} latch-error - A failed sign-in or BFF call. `detail: { code, source }`.
 * @event {CustomEvent<LatchExpiringDetail>} latch-expiring - The session ends soon. `detail: { expiresAt }`. `preventDefault()` keeps the element's own warning from showing.
 * @event {CustomEvent<LatchStepUpDetail>} latch-step-up - A step-up started or ended. `detail: { acr, maxAge, outcome }`.
 */
export class LatchLoginElement extends LatchElement {
  static override styles = styles;
  static override properties: PropertyDeclarations = { _open: { state: true }, mode: {} };
  /** Whether the account menu (signed in) or the menu of providers (signed out) is open. */
  declare _open: boolean;
  /** How "Sign in" signs in (the `mode` attribute); changing it re-renders. */
  declare mode: LatchLoginMode | null;
  /** Whether focus was inside when the status changed, until a new button can take it. */
  private _hadFocus?: boolean;
  /** The session status of the last render. */
  private _shown?: string;
  /** Whether a settled state was shown already (the first one is not announced). */
  private _settled?: boolean;

  /** "Sign in": with several providers and none named, opens or closes their menu; else signs in. */
  private async _start(): Promise<void> {
    const options = optionsOf(this);
    if (!options.provider && (await page.providers)?.[1]) this._open = !this._open;
    else return login(options, this);
  }

  /** What chunk `name` renders here: `wait` while it loads, `none` if it cannot be loaded. */
  private _view(name: string, t: LatchStrings, wait?: TemplateResult, none?: TemplateResult): TemplateResult | undefined {
    const view = lazy<LatchView>(name, () => this.requestUpdate());
    return view === undefined ? wait : view ? view(port, this, t, () => (this._open = false)) : none;
  }

  protected override willUpdate(): void {
    if (this._shown != state.status) {
      this._hadFocus ||= this.matches(':focus-within');
      this._open = false;
    }
    this._shown = state.status;
  }

  protected override updated(): void {
    // The focused control went away with a state change (after "Sign out", or "Retry" and the
    // loading that follows): focus the new button, unless the user has put focus elsewhere.
    const button = this.renderRoot.querySelector('button');
    if (this._hadFocus && button) {
      if (document.activeElement == document.body) button.focus();
      this._hadFocus = false;
    }
  }

  override render(): TemplateResult {
    const ready = this._strings();
    const t = ready ?? (en as LatchStrings);
    const loading = !ready || state.status == 'loading';
    // One template around every state, so the live region stays the same node.
    return html`${loading ? this._skeleton(t) : this._body(t)}<span class="r" role="status">${this._said(t, loading)}</span>`;
  }

  /** The element once the session and the strings are there: one state, one method. */
  private _body(t: LatchStrings): TemplateResult | undefined {
    const { status, user } = state;
    if (status == 'signed-in' && user) return this._account(t, user);
    // The error state (../chunks/error.ts): its words and Retry.
    if (status == 'error') return this._view('error', t, this._skeleton(t), this._signIn(t));
    const reason = endedWords(t);
    return html`${reason ? html`<span part="reason">${reason}</span>` : ''}${
      // mode="password": the form (../chunks/password.ts).
      this.mode == 'password' ? this._view('password', t, this._skeleton(t), this._signIn(t)) : this._signIn(t)
    }`;
  }

  /** Loading: a placeholder of the button's size, so that nothing shifts. */
  private _skeleton(t: LatchStrings): TemplateResult {
    return html`<span class="b s" part="skeleton" aria-hidden="true"><i>${t.signIn}</i></span>`;
  }

  /**
   * Signed out, or signing in (disabled and `aria-busy` until the session has its answer). With
   * several providers, "Sign in" is the button of their menu (../chunks/chooser.ts).
   */
  private _signIn(t: LatchStrings): TemplateResult {
    const busy = state.status == 'signing-in';
    const several = !this.getAttribute('provider') && (page.providers as LatchProvider[] | undefined)?.[1];
    return html`<button
        class="b"
        part="button"
        ?disabled=${busy}
        aria-busy=${busy}
        aria-haspopup=${several ? 'menu' : nothing}
        aria-expanded=${several ? !!this._open : nothing}
        @click=${() => this._start()}
      >
        ${t.signIn}</button
      >${several && this._open ? this._view('chooser', t) : ''}`;
  }

  /**
   * Signed in: the user's avatar and name, a button that opens the menu (../chunks/menu.ts), and
   * ahead of the session's end its warning (../chunks/expiry.ts). ArrowDown on the button opens the
   * menu as Enter does. The open menu takes focus, once its chunk is there (it stays on the button
   * meanwhile), and has its other keys (./menu.ts).
   */
  private _account(t: LatchStrings, user: LatchUser): TemplateResult {
    const name = nameOf(user);
    const avatar = user.picture
      ? html`<img class="a" part="avatar" src=${user.picture} alt="" referrerpolicy="no-referrer">`
      : html`<span class="a" part="avatar" aria-hidden="true">${name[0]}</span>`;
    return html`<button
        class="b m"
        part="button"
        aria-haspopup="menu"
        aria-expanded=${!!this._open}
        @click=${() => (this._open = !this._open)}
        @keydown=${(e: KeyboardEvent) => e.key == 'ArrowDown' && (this._open = true)}
      >
        ${avatar}<span part="name">${name}</span></button
      >${this._open ? this._view('menu', t) : ''}${page.warn ? this._view('expiry', t) : ''}`;
  }

  /**
   * What the live region says: an error's words; else, once the first settled state has been shown
   * (it is not announced: the page loaded with it), the state reached; nothing while loading.
   */
  private _said(t: LatchStrings, loading: boolean): string | null {
    const { status, user } = state;
    const settled = this._settled;
    this._settled ||= !loading;
    if (loading) return '';
    if (status == 'error') return errorWords(t);
    const news = user
      ? t.signedIn.replace('{name}', nameOf(user))
      : status == 'signing-in'
        ? t.signingIn
        : endedWords(t) || t.signedOut;
    return settled ? news : '';
  }
}

import { html, type PropertyDeclarations, type TemplateResult } from 'lit';
import type { LatchUser } from '../../bff/contract.ts';
import {
  login,
  logout,
  port,
  retry,
  state,
  type LatchLoginMode,
  type LatchLoginOptions,
} from '../client/session.ts';
import { en, type LatchStrings } from '../i18n/en.ts';
import { lazy } from '../lazy.ts';
import { LatchElement } from './base.ts';
import { styles } from './login.styles.ts';
import type { PasswordForm } from './password.ts';

/** The name shown for `user`: the first claim it has of name, preferred_username, email, sub. */
const nameOf = (user: LatchUser): string => String(user.name || user.preferred_username || user.email || user.sub);

/** The words for the session's error (its code's, else the general ones); null without one. */
const errorWords = (t: LatchStrings): string | null => state.error && (t[state.error.code] || t.error);

/**
 * The sign-in button, and once signed in the user's avatar and name with a
 * menu that holds "Sign out".
 *
 * States (from the shared session): loading (a placeholder of the button's
 * size, so nothing shifts), signed out, signing in (the button is disabled and
 * `aria-busy`), signed in, and error (words for the code, and "Retry").
 * With mode="password", signed out shows a username and password form instead
 * of the button (./password.ts).
 * State changes are announced through a polite live region.
 *
 * @tagname latch-login
 * @summary Sign-in button and account menu.
 * @attr {string} bff - The BFF's base URL. The first Latch element's `bff` (or `latch.configure({ bff })`) serves the whole page.
 * @attr {LatchLoginMode} mode - `redirect` (default), `popup` (a blocked popup falls back to a redirect), `password`: a username and password form, posted to the BFF (loaded on demand, from `latch-password.js` beside the bundle), or `handoff`: a popup, then the partitioned-cookie hand-off, for a BFF on another site (docs/embedding.md; loaded on demand, from `latch-handoff.js`).
 * @attr {string} return-to - Where to come back to after signing in. Default: this page.
 * @attr {string} login-hint - Passed to the BFF's `/login` as `login_hint`.
 * @attr {string} organization - Passed as `organization_id`.
 * @attr {string} connection - Passed as `connection_id`.
 * @attr {'login' | 'create' | 'select_account' | 'none'} prompt - `login`, `create`, `select_account` or `none`.
 * @attr {string} lang - Language of the element's strings (else the nearest `lang`, else `<html lang>`): en built in; de, fr, es load on demand.
 *
 * @csspart button - The sign-in, retry, and account (menu) buttons.
 * @csspart skeleton - The placeholder shown while loading.
 * @csspart avatar - The user's picture, or their initial when there is none.
 * @csspart name - The user's name in the account button.
 * @csspart menu - The account menu.
 * @csspart menu-item - The "Sign out" item.
 * @csspart error - The error's words.
 * @csspart form - The password form (mode="password").
 * @csspart label - The password form's labels.
 * @csspart input - The password form's username and password fields.
 *
 * @cssproperty --latch-accent - Button background (and focus ring). Light #1d4ed8, dark #93c5fd.
 * @cssproperty --latch-on-accent - Text on the accent colour. Light #fff, dark #0b1220.
 * @cssproperty --latch-bg - Background of the account button, the menu and the error. Light #fff, dark #1f2937.
 * @cssproperty --latch-fg - Text colour. Light #111827, dark #f9fafb.
 * @cssproperty --latch-border - Borders, the placeholder, the hovered item. Light #d1d5db, dark #4b5563.
 * @cssproperty --latch-error - Colour of the error's words. Light #b91c1c, dark #fca5a5.
 * @cssproperty --latch-focus - Focus ring colour. Default: the accent.
 * @cssproperty --latch-radius - Corner radius. Default 6px.
 * @cssproperty --latch-font - Font family. Default system-ui, sans-serif.
 *
 * @event {CustomEvent<LatchLoginDetail>} latch-login - The user signed in. `detail: { user }`.
 * @event {CustomEvent<LatchLogoutDetail>} latch-logout - The user is signed out. `detail: { user }` (who was signed in).
 * @event {CustomEvent<LatchSessionState>} latch-session-change - The shared session changed. `detail`: a snapshot of `latch.session`.
 * @event {CustomEvent<LatchErrorInfo>} latch-error - A failed sign-in or BFF call. `detail: { code, source }`.
 * @event {CustomEvent<LatchExpiringDetail>} latch-expiring - The session ends soon. `detail: { expiresAt }`.
 */
export class LatchLoginElement extends LatchElement {
  static override styles = styles;
  static override properties: PropertyDeclarations = { _open: { state: true }, mode: {} };
  declare _open: boolean;
  /** How "Sign in" signs in (the `mode` attribute); changing it re-renders. */
  declare mode: LatchLoginMode | null;
  /** Whether focus was inside when the status changed, until a new button can take it. */
  private _hadFocus?: boolean;
  /** The session status of the last render. */
  private _shown?: string;
  /** Whether a settled state was shown already (the first one is not announced). */
  private _settled?: boolean;

  constructor() {
    super();
    this.addEventListener('keydown', (e) => {
      if (this._open && (e.key == 'Escape' || e.key == 'Tab')) {
        // Back to the button; a Tab then goes on from there, out of the element.
        this._open = false;
        this.renderRoot.querySelector('button')!.focus();
      } else if (e.key == 'ArrowDown' && state.user) void this._show(true);
    });
    // Focus left the element (a click elsewhere, Tab out of the menu): close the menu.
    this.addEventListener('focusout', () => (this._open = false));
  }

  /** Opens the menu with focus on its item, or closes it with focus back on the button. */
  private async _show(open: boolean): Promise<void> {
    this._open = open;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(open ? '[role=menuitem]' : 'button')?.focus();
  }

  /** The sign-in options this element's attributes ask for. */
  private _options(): LatchLoginOptions {
    const a = (name: string) => this.getAttribute(name) || undefined;
    return {
      mode: a('mode') as LatchLoginMode | undefined,
      returnTo: a('return-to'),
      loginHint: a('login-hint'),
      organization: a('organization'),
      connection: a('connection'),
      prompt: a('prompt') as LatchLoginOptions['prompt'],
    };
  }

  protected override willUpdate(): void {
    if (this._shown != state.status) this._hadFocus ||= this.matches(':focus-within');
    this._shown = state.status;
    if (!state.user) this._open = false;
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
  private _body(t: LatchStrings): TemplateResult {
    const { status, user } = state;
    if (status == 'signed-in' && user) return this._account(t, user);
    if (status == 'error') return this._error(t);
    return this.mode == 'password' ? this._passwordForm(t) : this._signIn(t);
  }

  /** Loading: a placeholder of the button's size, so that nothing shifts. */
  private _skeleton(t: LatchStrings): TemplateResult {
    return html`<span class="b s" part="skeleton" aria-hidden="true"><i>${t.signIn}</i></span>`;
  }

  /** Signed out, or signing in (disabled and `aria-busy` until the session has its answer). */
  private _signIn(t: LatchStrings): TemplateResult {
    const busy = state.status == 'signing-in';
    return html`<button
      class="b"
      part="button"
      ?disabled=${busy}
      aria-busy=${busy}
      @click=${() => login(this._options(), this)}
    >
      ${t.signIn}
    </button>`;
  }

  /**
   * mode="password", signed out: the form of ./password.ts (in the build, dist/latch-password.js
   * beside the bundle), loaded the first time an element asks; the placeholder while it loads, and
   * the "Sign in" button if it cannot be loaded.
   */
  private _passwordForm(t: LatchStrings): TemplateResult {
    const form = lazy<PasswordForm>('password', () => import(/* @vite-ignore */ './password.ts'), () => this.requestUpdate());
    return form === undefined ? this._skeleton(t) : form ? form(port, this, t) : this._signIn(t);
  }

  /** Signed in: the user's avatar and name, a button that opens the menu with "Sign out". */
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
        aria-controls="menu"
        @click=${() => this._show(!this._open)}
      >
        ${avatar}<span part="name">${name}</span>
      </button>
      <div id="menu" part="menu" role="menu" aria-label=${t.account} ?hidden=${!this._open}>
        <button part="menu-item" role="menuitem" tabindex="-1" @click=${() => logout(this)}>${t.signOut}</button>
      </div>`;
  }

  /** The error: its words, and "Retry". */
  private _error(t: LatchStrings): TemplateResult {
    return html`<span class="e" part="error">${errorWords(t)}</span>
      <button class="b" part="button" @click=${() => retry(this._options(), this)}>${t.retry}</button>`;
  }

  /**
   * What the live region says: an error's words; else, once the first settled state has been shown
   * (it is not announced: the page loaded with it), the state reached; nothing while loading.
   */
  private _said(t: LatchStrings, loading: boolean): string {
    const { status, user } = state;
    const settled = this._settled;
    this._settled ||= !loading;
    if (loading) return '';
    const news = user ? t.signedIn.replace('{name}', nameOf(user)) : status == 'signing-in' ? t.signingIn : t.signedOut;
    return errorWords(t) || (settled ? news : '');
  }
}

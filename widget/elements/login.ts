import { html, type PropertyDeclarations, type TemplateResult } from 'lit';
import {
  config,
  login,
  logout,
  retry,
  signedIn,
  state,
  type LatchLoginMode,
  type LatchLoginOptions,
} from '../client/session.ts';
import { en, type LatchStrings } from '../i18n/en.ts';
import { overrides } from '../i18n/index.ts';
import { LatchElement } from './base.ts';
import { styles } from './login.styles.ts';
import type { PasswordForm } from './password.ts';

/**
 * The password form (./password.ts; in the build, dist/latch-password.js beside the bundle),
 * once loaded; 0 if it could not be loaded, and the element shows its "Sign in" button instead.
 */
let form: PasswordForm | 0 | undefined;

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
    const { status, user, error } = state;
    const loading = !ready || status == 'loading';
    const busy = status == 'signing-in';
    const name = String(user?.name || user?.preferred_username || user?.email || user?.sub);
    const words = error && (t[error.code] || t.error);
    const news = user ? t.signedIn.replace('{name}', name) : busy ? t.signingIn : t.signedOut;
    const said = loading ? '' : words || (this._settled ? news : '');
    this._settled ||= !loading;
    const avatar = user?.picture
      ? html`<img class="a" part="avatar" src=${user.picture} alt="" referrerpolicy="no-referrer">`
      : html`<span class="a" part="avatar" aria-hidden="true">${name[0]}</span>`;
    const skeleton = html`<span class="b s" part="skeleton" aria-hidden="true"><i>${t.signIn}</i></span>`;
    const body = loading
      ? skeleton
      : user && status == 'signed-in'
        ? html`<button
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
            </div>`
        : status == 'error'
          ? html`<span class="e" part="error">${words}</span>
              <button class="b" part="button" @click=${() => retry(this._options(), this)}>${t.retry}</button>`
          : this.mode == 'password' && form !== 0
            ? form
              ? form(this, t, html, config, signedIn, overrides)
              : (import(/* @vite-ignore */ './password.ts')
                  .then((m) => (form = m.default), () => (form = 0))
                  .then(() => this.requestUpdate()),
                skeleton)
            : html`<button
              class="b"
              part="button"
              ?disabled=${busy}
              aria-busy=${busy}
              @click=${() => login(this._options(), this)}
            >
              ${t.signIn}
            </button>`;
    // One template around every state, so the live region stays the same node.
    return html`${body}<span class="r" role="status">${said}</span>`;
  }
}

/**
 * The form of `<latch-login mode="password">`: username, password and "Sign in", posted to the
 * BFF's `POST /login/password` (the resource owner password grant, for trusted internal tools;
 * the BFF offers it only with LATCH_ENABLE_PASSWORD_GRANT=true).
 *
 * Not in the bundle: the build writes this module as dist/latch-password.js, which
 * `<latch-login>` imports from beside the bundle the first time an element has
 * mode="password". So the built file imports nothing (vite.config.ts fails the build if it
 * does): it carries its own words and constants (and copies of `emit` and `langOf`), and finds
 * what must be the bundle's own (Lit's `html`, the session's config and its sign-in, the string
 * overrides) in the port (../port.ts).
 */
import type { TemplateResult } from 'lit';
import type { ErrorBody, MeResponse } from '../../bff/contract.ts';
import { CSRF_HEADER, type LatchWidgetErrorCode } from '../client/bff.ts';
import { adopt, css } from '../elements/sheet.ts';
import { password as de } from '../i18n/de.ts';
import { password as en, failure, type LatchPasswordStrings, type LatchStrings } from '../i18n/en.ts';
import { password as es } from '../i18n/es.ts';
import { password as fr } from '../i18n/fr.ts';
import { emit } from '../events.ts';
import { langOf, withWords } from '../i18n/index.ts';
import type { LatchHost, LatchPort } from '../port.ts';

/** What `<latch-login>` is to the form: its host, re-rendered through Lit. */
export type PasswordHost = LatchHost;

/**
 * Renders the form into `host` (called from its `render()`, so every render of the host renders
 * it again). `t`: the host's strings; the form's own words follow the same overrides
 * (`port.overrides`) in the host's language.
 */
export type PasswordForm = (port: LatchPort, host: PasswordHost, t: LatchStrings) => TemplateResult;

/** The form's words by language (the bundle's language tables do not have them). */
const tables: Record<string, LatchPasswordStrings> = { en, de, fr, es };

/** One form's state: submitting, and the last failure (its code, and Retry-After in seconds). */
interface State {
  busy?: boolean;
  code?: LatchWidgetErrorCode;
  wait?: number;
}

const states = new WeakMap<Element, State>();

/**
 * Added to the element's own styles (login.styles.ts: its private properties, `.b` for the
 * button, the focus ring) as a constructed sheet, so no `style-src 'unsafe-inline'` is needed.
 * The form has a background of its own, so its words keep their contrast on any page.
 */
const styles = css`
  form {
    display: grid;
    gap: 0.25em;
    min-width: 15em;
    padding: 0.75em;
    border: 1px solid var(--_l);
    border-radius: var(--_r);
    background: var(--_b);
  }
  input {
    box-sizing: border-box;
    width: 100%;
    height: 2.5em;
    margin-bottom: 0.25em;
    padding: 0 0.75em;
    border: 1px solid var(--_l);
    border-color: color-mix(in srgb, var(--_f) 55%, var(--_b));
    border-radius: var(--_r);
    background: var(--_b);
    color: var(--_f);
    font: inherit;
  }
  [aria-invalid='true'] {
    border-color: var(--_e);
  }
  #x {
    margin: 0;
    color: var(--_e);
  }
  #x:not(:empty) {
    margin-bottom: 0.25em;
  }
  form .b {
    justify-content: center;
  }
`;

/** `seconds` in words of `lang` ("30 seconds", "5 Minuten"): minutes from two minutes on. */
function duration(seconds: number, lang: string): string {
  const minutes = seconds >= 120;
  const n = minutes ? Math.ceil(seconds / 60) : seconds;
  try {
    return new Intl.NumberFormat(lang, { style: 'unit', unit: minutes ? 'minute' : 'second', unitDisplay: 'long' }).format(n);
  } catch {
    return `${n} s`;
  }
}

const form: PasswordForm = ({ html, config, overrides, apply }, host, t) => {
  // The form's words in the order of the bundle's own: the language's override, its table,
  // the English override, English.
  const lang = langOf(host);
  // The words of failures too (LATCH_UNREACHABLE, `error`), which the bundle's English has not.
  const s = { ...withWords(t, failure) } as LatchStrings & LatchPasswordStrings;
  for (const k of Object.keys(en) as (keyof LatchPasswordStrings)[])
    s[k] = overrides[lang]?.[k] ?? tables[lang]?.[k] ?? overrides['en']?.[k] ?? en[k];
  // Units ("30 seconds") in the language the words are in.
  const unitLang = tables[lang] || overrides[lang]?.retryIn ? lang : 'en';
  const state = states.get(host) ?? {};
  states.set(host, state);
  const root = host.shadowRoot!;
  adopt(host, styles);

  const { busy, code, wait } = state;
  const words = !code
    ? ''
    : code == 'LATCH_RATE_LIMITED' && wait
      ? s.retryIn.replace('{time}', duration(wait, unitLang))
      : code == 'LATCH_NOT_FOUND'
        ? s.passwordOff
        : s[code] || s.error;
  const invalid = code == 'LATCH_INVALID_CREDENTIALS';

  const submit = async (e: SubmitEvent): Promise<void> => {
    // The browser's own submission (a page load) never happens: the form posts JSON itself.
    e.preventDefault();
    if (state.busy) return;
    const fields = (e.target as HTMLFormElement).elements;
    const username = fields.namedItem('username') as HTMLInputElement;
    const password = fields.namedItem('password') as HTMLInputElement;
    // Whether focus was in the form, so that it can follow once the form has gone.
    const hadFocus = host.matches(':focus-within');
    // The error goes, so that the same words said again are announced again.
    Object.assign(state, { busy: true, code: undefined, wait: undefined });
    host.requestUpdate();
    let res: Response | undefined;
    let body: (Partial<MeResponse> & Partial<ErrorBody>) | null = null;
    try {
      res = await fetch(config.bff + '/login/password', {
        method: 'POST',
        credentials: 'include',
        headers: { 'Content-Type': 'application/json', [CSRF_HEADER]: '1' },
        body: JSON.stringify({ username: username.value, password: password.value }),
        signal: AbortSignal.timeout(config.timeout),
      });
      body = await res.json().catch(() => null);
    } catch {
      // Network error or timeout: LATCH_UNREACHABLE below.
    }
    state.busy = false;
    if (res?.ok && body?.user) {
      password.value = '';
      apply(body as MeResponse, true, null, host);
      await host.updateComplete;
      // The form made way for the account button: focus goes there unless the user put it elsewhere.
      if (hadFocus && document.activeElement == document.body) root.querySelector('button')?.focus();
      return;
    }
    // No JSON error body: not the BFF answering (a proxy's error page, a wrong URL).
    state.code = body?.error?.code ?? 'LATCH_UNREACHABLE';
    state.wait = Number(res?.headers.get('Retry-After')) || 0;
    password.value = '';
    // Like a failed call to the BFF, but the session stays as it is (signed out).
    emit(host, 'error', { code: state.code, source: 'bff' });
    host.requestUpdate();
    await host.updateComplete;
    password.focus();
  };

  return html`<form part="form" @submit=${submit}>
    <label part="label" for="u">${s.username}</label>
    <input
      part="input"
      id="u"
      name="username"
      autocomplete="username"
      autocapitalize="none"
      spellcheck="false"
      required
      aria-invalid=${invalid}
      aria-describedby="x"
      ?readonly=${busy}
    />
    <label part="label" for="p">${s.password}</label>
    <input
      part="input"
      id="p"
      name="password"
      type="password"
      autocomplete="current-password"
      required
      aria-invalid=${invalid}
      aria-describedby="x"
      ?readonly=${busy}
    />
    <p id="x" part="error" role="alert">${words}</p>
    <button class="b" part="button" ?disabled=${busy} aria-busy=${!!busy}>${busy ? s.signingIn : s.signIn}</button>
  </form>`;
};

export default form;

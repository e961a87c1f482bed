/// <reference types="mocha" />
// <latch-login mode="password">: the form (widget/elements/password.ts, loaded on demand), posting
// to a BFF faked at the fetch level: POST /login/password answers like the real route
// (bff/routes/password.ts); everything else goes to fake-bff.ts.
import { expect } from '@esm-bundle/chai';
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import type { ErrorBody, LatchUser, MeResponse } from '../../bff/contract.ts';
import { state } from '../../widget/client/session.ts';
import { latch, type LatchLoginElement } from '../../widget/index.ts';
import { loadAxe, violations } from './axe.ts';
import { $, ADA, BFF, fakeBff, focused, mount, navigations, record, rendered, reset, settle, shown, until, type FakeBff } from './fake-bff.ts';


const USERNAME = 'ada@example.com';
const PASSWORD = 'correct horse battery staple';

interface PasswordCall {
  url: string;
  method: string;
  headers: Headers;
  credentials: RequestCredentials | undefined;
  body: string;
}

/** What POST /login/password answers next: a status (with a JSON error body), or a network failure. */
type Answer = 'network' | { status: number; code?: ErrorBody['error']['code']; headers?: Record<string, string>; text?: string };

interface PasswordBff extends FakeBff {
  posts: PasswordCall[];
  /** Set: the next answers, in order, instead of checking the credentials. */
  answers: Answer[];
  /** While set, POST /login/password waits for it (an abort ends the wait). */
  holdPost: Promise<void> | null;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/**
 * fake-bff.ts's BFF, plus POST /login/password like the real route: the CSRF header and JSON are
 * required; Ada's credentials sign her in (then /me knows her too); others get 401.
 */
function passwordBff(user: LatchUser | null = null): PasswordBff {
  const bff = fakeBff(user) as PasswordBff;
  const fake = window.fetch;
  bff.posts = [];
  bff.answers = [];
  bff.holdPost = null;
  window.fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url != `${BFF}/login/password`) return fake(input, init);
    const headers = new Headers(init.headers);
    bff.posts.push({ url, method: init.method ?? 'GET', headers, credentials: init.credentials, body: String(init.body) });
    if (bff.holdPost) {
      const signal = init.signal;
      await Promise.race([
        bff.holdPost,
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
      ]);
    }
    const next = bff.answers.shift();
    if (next == 'network') throw new TypeError('Failed to fetch');
    if (next) {
      if (next.text != null) return new Response(next.text, { status: next.status, headers: { 'content-type': 'text/html', ...next.headers } });
      return json(next.status, { error: { code: next.code!, message: 'x' } } satisfies ErrorBody, next.headers);
    }
    if (init.method != 'POST' || headers.get('latch-csrf') != '1') return json(403, { error: { code: 'LATCH_CSRF', message: 'x' } });
    if (headers.get('content-type') != 'application/json') return json(415, { error: { code: 'LATCH_UNSUPPORTED_MEDIA_TYPE', message: 'x' } });
    const { username, password } = JSON.parse(String(init.body)) as { username: string; password: string };
    if (username != USERNAME || password != PASSWORD) {
      return json(401, { error: { code: 'LATCH_INVALID_CREDENTIALS', message: 'The username or password is incorrect.' } });
    }
    bff.user = { ...ADA };
    return json(200, { user: bff.user, expiresAt: bff.expiresAt } satisfies MeResponse);
  };
  return bff;
}

/** Mounts markup and waits until the element (the first in it) shows the password form. */
async function mountForm(markup = `<latch-login bff="${BFF}" mode="password"></latch-login>`): Promise<LatchLoginElement> {
  const box = await mount(markup);
  const el = (box.matches('latch-login') ? box : box.querySelector('latch-login')) as LatchLoginElement;
  await until(() => $(el, 'form'), 'the password form');
  return el;
}

const field = (el: Element, name: 'username' | 'password') => $<HTMLInputElement>(el, `input[name=${name}]`)!;
const submitButton = (el: Element) => $<HTMLButtonElement>(el, 'form button')!;
const alertText = (el: Element) => $(el, '[role=alert]')!.textContent;

/** Fills the fields and submits (as a click on "Sign in" does). */
function fillAndSubmit(el: Element, username = USERNAME, password = PASSWORD): void {
  field(el, 'username').value = username;
  field(el, 'password').value = password;
  submitButton(el).click();
}

/** After a submit: waits until the form has its answer (not busy any more) and has rendered. */
async function answered(el: Element): Promise<void> {
  await rendered();
  await until(() => submitButton(el) && !submitButton(el).disabled, 'the answer');
  await rendered();
}

/** Resources this page loaded whose path ends with `end`. */
const loaded = (end: string) => performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.endsWith(end));

describe('<latch-login mode="password">', () => {
  beforeEach(reset);
  after(reset);

  // Runs first: once loaded, the form's module stays for the rest of the page's life.
  it('loads the form only when an element has mode="password", with the placeholder until then', async () => {
    passwordBff();
    const plain = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    expect($(plain, 'button')!.textContent!.trim()).to.equal('Sign in');
    expect(loaded('/chunks/password.ts')).to.have.length(0);
    const el = document.createElement('latch-login');
    el.setAttribute('mode', 'password');
    document.body.append(el);
    await el.updateComplete;
    expect($(el, '[part=skeleton]'), 'placeholder while the form loads').to.exist;
    expect($(el, 'form')).to.equal(null);
    await until(() => $(el, 'form'), 'the password form');
    expect($(el, '[part=skeleton]')).to.equal(null);
    expect(loaded('/chunks/password.ts')).to.have.length(1);
    // The other element is still a plain "Sign in" button.
    expect($(plain, 'form')).to.equal(null);
  });

  describe('the form', () => {
    it('has labelled fields with autocomplete, and "Sign in" as its submit button', async () => {
      passwordBff();
      const el = await mountForm();
      const username = field(el, 'username');
      const password = field(el, 'password');
      expect([...username.labels!].map((l) => l.textContent)).to.deep.equal(['Username']);
      expect([...password.labels!].map((l) => l.textContent)).to.deep.equal(['Password']);
      expect(username.autocomplete).to.equal('username');
      expect(password.autocomplete).to.equal('current-password');
      expect(username.type).to.equal('text');
      expect(password.type).to.equal('password');
      expect(username.required && password.required).to.equal(true);
      const button = submitButton(el);
      expect(button.type).to.equal('submit');
      expect(button.textContent).to.equal('Sign in');
      expect(button.disabled).to.equal(false);
      expect(button.getAttribute('aria-busy')).to.equal('false');
      expect($(el, '[role=alert]')!.textContent).to.equal('');
      expect(username.getAttribute('aria-describedby')).to.equal($(el, '[role=alert]')!.id);
      expect(state.status).to.equal('signed-out');
    });

    it('follows the mode attribute when it changes', async () => {
      passwordBff();
      const el = await mount<LatchLoginElement>(`<latch-login bff="${BFF}"></latch-login>`);
      el.setAttribute('mode', 'password');
      await until(() => $(el, 'form'), 'the form');
      expect(el.mode).to.equal('password');
      el.removeAttribute('mode');
      await rendered();
      expect($(el, 'form')).to.equal(null);
      expect($(el, 'button')!.textContent!.trim()).to.equal('Sign in');
    });

    it('shows the account menu, not the form, while signed in; after "Sign out", an empty form', async () => {
      passwordBff({ ...ADA });
      const el = await mount<LatchLoginElement>(`<latch-login bff="${BFF}" mode="password"></latch-login>`);
      expect($(el, 'form')).to.equal(null);
      expect($(el, '[part=name]')!.textContent).to.equal('Ada Lovelace');
      $(el, 'button')!.click();
      (await shown(el, '[role=menuitem]')).click();
      await settle('signed-out');
      await until(() => $(el, 'form'), 'the form');
      expect(field(el, 'username').value).to.equal('');
      expect(field(el, 'password').value).to.equal('');
    });
  });

  describe('signing in', () => {
    it('POSTs JSON {username, password} to /login/password with credentials and Latch-CSRF: 1', async () => {
      const bff = passwordBff();
      const el = await mountForm();
      fillAndSubmit(el);
      await settle('signed-in');
      expect(bff.posts).to.have.length(1);
      const [post] = bff.posts;
      expect(post!.url).to.equal(`${BFF}/login/password`);
      expect(post!.method).to.equal('POST');
      expect(post!.credentials).to.equal('include');
      expect(post!.headers.get('Content-Type')).to.equal('application/json');
      expect(post!.headers.get('Latch-CSRF')).to.equal('1');
      expect(JSON.parse(post!.body)).to.deep.equal({ username: USERNAME, password: PASSWORD });
      expect(navigations).to.deep.equal([]);
    });

    it('signs the shared session in from the answer, with latch-login and latch-session-change from the element', async () => {
      const bff = passwordBff();
      const gate = `<latch-gate><p>members</p><p slot="anonymous">anonymous</p></latch-gate>`;
      const box = await mount(`<div>${gate}<latch-login bff="${BFF}" mode="password"></latch-login></div>`);
      const el = box.querySelector('latch-login')!;
      await until(() => $(el, 'form'), 'the form');
      const seen = record('latch-login', 'latch-session-change', 'latch-error');
      const meCalls = bff.callsTo('/me').length;
      fillAndSubmit(el);
      await settle('signed-in');
      expect(state.user).to.deep.equal(ADA);
      expect(state.expiresAt).to.equal(bff.expiresAt);
      expect(state.error).to.equal(null);
      expect(seen.map((e) => e.type)).to.deep.equal(['latch-login', 'latch-session-change']);
      expect(seen[0]!.detail).to.deep.equal({ user: ADA });
      expect(seen[1]!.detail.status).to.equal('signed-in');
      // From the element the user acted on, although the gate comes first in the page.
      expect(seen.every((e) => e.target == el)).to.equal(true);
      // The answer is /me's: no need to ask again.
      expect(bff.callsTo('/me')).to.have.length(meCalls);
      await rendered();
      expect($(el, '[part=name]')!.textContent).to.equal('Ada Lovelace');
      expect($(el, 'form')).to.equal(null);
      expect($(el, '[role=status]')!.textContent).to.equal('Signed in as Ada Lovelace');
      expect(box.querySelector('latch-gate')!.shadowRoot!.querySelector('slot')!.name).to.equal('');
    });

    it('tells the other tabs, through the BroadcastChannel', async () => {
      passwordBff();
      const other = new BroadcastChannel(`latch:${BFF}`);
      const heard: unknown[] = [];
      other.onmessage = (e) => heard.push(e.data);
      try {
        const el = await mountForm();
        fillAndSubmit(el);
        await settle('signed-in');
        await until(() => heard.length == 1, 'broadcast');
        expect(heard).to.deep.equal([{ me: { user: ADA, expiresAt: state.expiresAt }, reason: null }]);
      } finally {
        other.close();
      }
    });

    it('is busy while the BFF answers: "Sign in" disabled and aria-busy, the fields kept, one POST only', async () => {
      const bff = passwordBff();
      let answer!: () => void;
      bff.holdPost = new Promise((r) => (answer = r));
      const el = await mountForm();
      fillAndSubmit(el);
      await rendered();
      const button = submitButton(el);
      expect(button.disabled).to.equal(true);
      expect(button.getAttribute('aria-busy')).to.equal('true');
      expect(button.textContent).to.equal('Signing in…');
      expect(field(el, 'username').value).to.equal(USERNAME);
      expect(field(el, 'username').readOnly).to.equal(true);
      expect(field(el, 'password').readOnly).to.equal(true);
      // Enter in a field does not submit again.
      $<HTMLFormElement>(el, 'form')!.requestSubmit();
      await rendered();
      expect(bff.posts).to.have.length(1);
      answer();
      await settle('signed-in');
    });
  });

  describe('failures', () => {
    /** Submits wrong or right credentials with the BFF answering `answer`, and waits for the form's answer. */
    async function failWith(answer: Answer, markup?: string) {
      const bff = passwordBff();
      const el = await mountForm(markup);
      const errors = record('latch-error');
      const logins = record('latch-login', 'latch-session-change');
      bff.answers.push(answer);
      fillAndSubmit(el);
      await until(() => bff.posts.length == 1, 'the POST');
      await answered(el);
      await until(() => alertText(el) != '', 'the error');
      return { bff, el, errors, logins };
    }

    it('401: says the username or password is incorrect, keeps the username, clears the password, focuses it', async () => {
      const { el, errors, logins } = await failWith({ status: 401, code: 'LATCH_INVALID_CREDENTIALS' });
      expect(alertText(el)).to.equal('The username or password is incorrect.');
      expect(field(el, 'username').value).to.equal(USERNAME);
      expect(field(el, 'password').value).to.equal('');
      expect(field(el, 'username').readOnly).to.equal(false);
      await until(() => focused() == field(el, 'password'), 'focus on the password');
      expect(field(el, 'password').getAttribute('aria-invalid')).to.equal('true');
      expect(field(el, 'username').getAttribute('aria-invalid')).to.equal('true');
      expect(submitButton(el).getAttribute('aria-busy')).to.equal('false');
      // The session is untouched: still signed out, no latch-login; latch-error carries the code.
      expect(state.status).to.equal('signed-out');
      expect(state.error).to.equal(null);
      expect(logins).to.deep.equal([]);
      expect(errors.map((e) => e.detail)).to.deep.equal([{ code: 'LATCH_INVALID_CREDENTIALS', source: 'bff' }]);
      expect(errors[0]!.target).to.equal(el);
    });

    it('a wrong password against the BFF\'s own check, then the right one', async () => {
      const bff = passwordBff();
      const el = await mountForm();
      fillAndSubmit(el, USERNAME, 'wrong');
      await answered(el);
      expect(alertText(el)).to.equal('The username or password is incorrect.');
      // The same words again after the next failure: the region is emptied while submitting, so it is said again.
      let answer!: () => void;
      bff.holdPost = new Promise((r) => (answer = r));
      field(el, 'password').value = 'wrong again';
      submitButton(el).click();
      await rendered();
      expect(alertText(el)).to.equal('');
      answer();
      bff.holdPost = null;
      await answered(el);
      expect(alertText(el)).to.equal('The username or password is incorrect.');
      field(el, 'password').value = PASSWORD;
      submitButton(el).click();
      await settle('signed-in');
      expect(bff.posts).to.have.length(3);
    });

    it('429: too many attempts, with the wait the BFF gives in Retry-After', async () => {
      const { el, errors } = await failWith({ status: 429, code: 'LATCH_RATE_LIMITED', headers: { 'Retry-After': '30' } });
      expect(alertText(el)).to.equal('Too many attempts. Please wait 30 seconds and try again.');
      expect(field(el, 'password').value).to.equal('');
      expect(field(el, 'password').getAttribute('aria-invalid')).to.equal('false');
      expect(errors.map((e) => e.detail.code)).to.deep.equal(['LATCH_RATE_LIMITED']);
    });

    it('429: a long wait in minutes, and without Retry-After, no number', async () => {
      const bff = passwordBff();
      const el = await mountForm();
      bff.answers.push({ status: 429, code: 'LATCH_RATE_LIMITED', headers: { 'Retry-After': '280' } });
      fillAndSubmit(el);
      await answered(el);
      expect(alertText(el)).to.equal('Too many attempts. Please wait 5 minutes and try again.');
      bff.answers.push({ status: 429, code: 'LATCH_RATE_LIMITED' });
      fillAndSubmit(el);
      await answered(el);
      expect(alertText(el)).to.equal('Too many attempts. Please wait a moment and try again.');
    });

    it('404: says clearly that password sign-in is off at the BFF', async () => {
      const { el } = await failWith({ status: 404, code: 'LATCH_NOT_FOUND' });
      expect(alertText(el)).to.equal('Signing in with a password is not available here.');
    });

    for (const [status, code] of [
      [400, 'LATCH_BAD_REQUEST'],
      [403, 'LATCH_CSRF'],
      [403, 'LATCH_ORIGIN_NOT_ALLOWED'],
      [500, 'LATCH_INTERNAL'],
      [502, 'LATCH_UPSTREAM_ERROR'],
    ] as const) {
      it(`${status} ${code}: the widget's words for a failed sign-in`, async () => {
        const { el, errors } = await failWith({ status, code });
        expect(alertText(el)).to.equal('Sign-in failed. Please try again.');
        expect(errors.map((e) => e.detail.code)).to.deep.equal([code]);
        expect(field(el, 'username').value).to.equal(USERNAME);
        expect(field(el, 'password').value).to.equal('');
      });
    }

    it('network failure: the widget\'s words for an unreachable BFF', async () => {
      const { el, errors } = await failWith('network');
      expect(alertText(el)).to.equal('The sign-in service cannot be reached.');
      expect(errors.map((e) => e.detail.code)).to.deep.equal(['LATCH_UNREACHABLE']);
      expect(state.status).to.equal('signed-out');
    });

    it('an answer that is not the BFF\'s JSON (a proxy\'s error page) counts as unreachable', async () => {
      const { el } = await failWith({ status: 502, text: '<h1>Bad Gateway</h1>' });
      expect(alertText(el)).to.equal('The sign-in service cannot be reached.');
    });

    it('gives up on a BFF that does not answer, after the timeout', async () => {
      const bff = passwordBff();
      const el = await mountForm();
      latch.configure({ timeout: 150 });
      bff.holdPost = new Promise(() => {});
      fillAndSubmit(el);
      await answered(el);
      expect(alertText(el)).to.equal('The sign-in service cannot be reached.');
    });

    it('an error override from latch.configure() applies, as for the other words', async () => {
      latch.configure({ strings: { en: { LATCH_INVALID_CREDENTIALS: 'Nope.' } } });
      try {
        const { el } = await failWith({ status: 401, code: 'LATCH_INVALID_CREDENTIALS' });
        expect(alertText(el)).to.equal('Nope.');
      } finally {
        latch.configure({ strings: { en: { LATCH_INVALID_CREDENTIALS: 'The username or password is incorrect.' } } });
      }
    });
  });

  describe('languages', () => {
    it('speaks the element\'s language, errors and the wait included', async () => {
      const bff = passwordBff();
      const el = await mountForm(`<latch-login bff="${BFF}" mode="password" lang="de"></latch-login>`);
      await until(() => submitButton(el)?.textContent == 'Anmelden', 'German');
      expect([...field(el, 'username').labels!].map((l) => l.textContent)).to.deep.equal(['Benutzername']);
      expect([...field(el, 'password').labels!].map((l) => l.textContent)).to.deep.equal(['Passwort']);
      fillAndSubmit(el, USERNAME, 'falsch');
      await answered(el);
      expect(alertText(el)).to.equal('Der Benutzername oder das Passwort ist falsch.');
      bff.answers.push({ status: 429, code: 'LATCH_RATE_LIMITED', headers: { 'Retry-After': '30' } });
      fillAndSubmit(el);
      await answered(el);
      expect(alertText(el)).to.equal('Zu viele Versuche. Bitte warten Sie 30 Sekunden und versuchen Sie es dann erneut.');
      bff.answers.push('network');
      fillAndSubmit(el);
      await answered(el);
      expect(alertText(el)).to.equal('Der Anmeldedienst ist nicht erreichbar.');
    });

    it('French and Spanish have the form\'s words too', async () => {
      passwordBff();
      const box = await mount(
        `<div><latch-login bff="${BFF}" mode="password" lang="fr"></latch-login><latch-login mode="password" lang="es"></latch-login></div>`,
      );
      const [fr, es] = box.querySelectorAll('latch-login');
      await until(() => submitButton(fr!)?.textContent == 'Se connecter' && submitButton(es!)?.textContent == 'Iniciar sesión', 'fr and es');
      expect($(fr!, 'label[for=p]')!.textContent).to.equal('Mot de passe');
      expect($(es!, 'label[for=p]')!.textContent).to.equal('Contraseña');
    });

    it('every language has every word of the form, in its own words', async () => {
      const { password: en } = await import('../../widget/i18n/en.ts');
      for (const lang of ['de', 'fr', 'es']) {
        const table = (await import(`../../widget/i18n/${lang}.ts`)).password as Record<string, string>;
        expect(Object.keys(table).sort(), lang).to.deep.equal(Object.keys(en).sort());
        for (const [k, v] of Object.entries(table)) expect(v, `${lang}.${k}`).not.to.equal((en as Record<string, string>)[k]);
        expect(table['retryIn'], lang).to.contain('{time}');
      }
    });

    it('overrides apply per language: an English one does not reach a German form', async () => {
      passwordBff();
      latch.configure({ strings: { en: { username: 'Email' }, de: { password: 'Kennwort' } } });
      try {
        const box = await mount(
          `<div><latch-login bff="${BFF}" mode="password"></latch-login><latch-login mode="password" lang="de"></latch-login></div>`,
        );
        const [en, de] = box.querySelectorAll('latch-login');
        await until(() => submitButton(de!)?.textContent == 'Anmelden' && $(en!, 'form'), 'both forms');
        expect($(en!, 'label[for=u]')!.textContent).to.equal('Email');
        expect($(de!, 'label[for=u]')!.textContent).to.equal('Benutzername');
        expect($(de!, 'label[for=p]')!.textContent).to.equal('Kennwort');
      } finally {
        latch.configure({ strings: { en: { username: 'Username' }, de: { password: 'Passwort' } } });
      }
    });
  });

  describe('keyboard', () => {
    it('Tab goes username → password → "Sign in", each with a visible focus ring; Enter submits', async () => {
      passwordBff();
      document.body.innerHTML = `<button id="before">before</button>`;
      const el = await mountForm();
      document.getElementById('before')!.focus();
      await sendKeys({ press: 'Tab' });
      expect(focused()).to.equal(field(el, 'username'));
      expect(getComputedStyle(field(el, 'username')).outlineStyle).to.equal('solid');
      expect(getComputedStyle(field(el, 'username')).outlineWidth).to.equal('2px');
      await sendKeys({ type: USERNAME });
      await sendKeys({ press: 'Tab' });
      expect(focused()).to.equal(field(el, 'password'));
      expect(getComputedStyle(field(el, 'password')).outlineStyle).to.equal('solid');
      await sendKeys({ type: PASSWORD });
      await sendKeys({ press: 'Tab' });
      expect(focused()).to.equal(submitButton(el));
      expect(getComputedStyle(submitButton(el)).outlineStyle).to.equal('solid');
      await sendKeys({ press: 'Shift+Tab' });
      await sendKeys({ press: 'Enter' });
      await settle('signed-in');
      await rendered();
      // The form made way for the account button, and focus went with it.
      expect(focused()!.getAttribute('aria-haspopup')).to.equal('menu');
    });

    it('Enter with a wrong password: the error, and focus back in the emptied password field', async () => {
      passwordBff();
      const el = await mountForm();
      field(el, 'username').focus();
      await sendKeys({ type: USERNAME });
      await sendKeys({ press: 'Tab' });
      await sendKeys({ type: 'wrong' });
      await sendKeys({ press: 'Enter' });
      await answered(el);
      expect(alertText(el)).to.equal('The username or password is incorrect.');
      await until(() => focused() == field(el, 'password'), 'focus on the password');
      expect(field(el, 'password').value).to.equal('');
      // Typing the right one and Enter signs in.
      await sendKeys({ type: PASSWORD });
      await sendKeys({ press: 'Enter' });
      await settle('signed-in');
    });

    it('Enter with an empty field does not post (the fields are required)', async () => {
      const bff = passwordBff();
      const el = await mountForm();
      field(el, 'username').focus();
      await sendKeys({ press: 'Enter' });
      await rendered();
      expect(bff.posts).to.have.length(0);
      expect(field(el, 'username').validity.valueMissing).to.equal(true);
    });
  });

  describe('accessibility', () => {
    before(async () => {
      document.title = 'Latch password form';
      await loadAxe();
    });
    afterEach(() => emulateMedia({ colorScheme: 'light' }));

    const PAGE = `<main><h1>Latch</h1><latch-login bff="${BFF}" mode="password"></latch-login></main>`;

    for (const scheme of ['light', 'dark'] as const) {
      it(`axe finds no violations in the ${scheme} scheme: empty, busy, with an error`, async () => {
        await emulateMedia({ colorScheme: scheme });
        const bff = passwordBff();
        const el = await mountForm(PAGE);
        expect(await violations(), 'empty').to.deep.equal([]);
        let answer!: () => void;
        bff.holdPost = new Promise((r) => (answer = r));
        fillAndSubmit(el, USERNAME, 'wrong');
        await rendered();
        expect(submitButton(el).disabled).to.equal(true);
        expect(await violations(), 'busy').to.deep.equal([]);
        answer();
        await answered(el);
        expect(alertText(el)).to.equal('The username or password is incorrect.');
        expect(await violations(), 'error').to.deep.equal([]);
      });
    }

    it('the form has the contrast of its own background, whatever the page', async () => {
      await emulateMedia({ colorScheme: 'dark' });
      passwordBff();
      const el = await mountForm(PAGE);
      const form = getComputedStyle($(el, 'form')!);
      expect(form.backgroundColor).to.equal('rgb(31, 41, 55)');
      expect(getComputedStyle($(el, 'label')!).color).to.equal('rgb(249, 250, 251)');
    });
  });
});

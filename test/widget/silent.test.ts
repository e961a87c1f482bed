/// <reference types="mocha" />
// Silent sign-in (issue 19; widget/chunks/silent.ts): `<latch-login silent="true">` tries a
// prompt=none sign-in in a hidden frame when /me finds no session, else the top-level redirect
// variant; login_required / interaction_required end signed out with no error; at most once per page
// load and per 5 minutes; never after an explicit sign-out, unless it went through the provider's
// logout page and came back.
import { expect } from '@esm-bundle/chai';
import type { LatchPopupMessage } from '../../bff/contract.ts';
import { state } from '../../widget/client/session.ts';
import { PROVIDER_SIGN_OUT, SIGNED_OUT, SILENT_AT } from '../../widget/client/storage.ts';
import { latch } from '../../widget/index.ts';
import { load } from '../../widget/lazy.ts';
import { builtApart } from './built.ts';
import { ADA, BFF, BFF_ORIGIN, fakeBff, mount, navigations, record, reset, settle, until } from './fake-bff.ts';

const FRAME = 'iframe[src*="mode=silent"]';

/**
 * How many silent frames the page has. (A count, not the element: an assertion that fails with a
 * frame as its value would have the test runner serialise the frame, and hang.)
 */
const frames = (): number => document.querySelectorAll(FRAME).length;

/** The silent frame, once the widget has added it. */
async function frame(): Promise<HTMLIFrameElement> {
  await until(() => document.querySelector(FRAME), 'the silent frame');
  return document.querySelector<HTMLIFrameElement>(FRAME)!;
}

/** Answers as the BFF's silent callback page does: a message to this page, from the frame. */
async function answer(f: HTMLIFrameElement, msg: Omit<LatchPopupMessage, 'type'>): Promise<void> {
  await load('silent');
  window.dispatchEvent(
    new MessageEvent('message', { data: { type: 'latch:login', ...msg }, origin: BFF_ORIGIN, source: f.contentWindow }),
  );
}

/** A new page load in the same tab: a fresh widget and page, the browser's storage kept. */
function reload(): void {
  const kept = { out: localStorage.getItem(SIGNED_OUT), at: sessionStorage.getItem(SILENT_AT) };
  reset();
  if (kept.out) localStorage.setItem(SIGNED_OUT, kept.out);
  if (kept.at) sessionStorage.setItem(SILENT_AT, kept.at);
}

const SILENT = `<latch-login bff="${BFF}" silent="true"></latch-login>`;

/** The next page load, without a session: signed out, and no silent sign-in tried. */
async function reloadedWithoutAttempt(): Promise<void> {
  reload();
  fakeBff();
  await mount(SILENT);
  await settle('signed-out');
  await new Promise((r) => setTimeout(r, 100));
  expect(frames()).to.equal(0);
}

describe('silent sign-in', () => {
  beforeEach(reset);
  // A frame a test leaves waiting is answered, so that its attempt does not end (with a redirect, after
  // the frame's timeout) during a later test.
  afterEach(async () => {
    const f = document.querySelector<HTMLIFrameElement>(FRAME);
    if (f) await answer(f, { ok: false, error: 'login_required' });
  });
  after(reset);

  it('is off by default: /me without a session is signed out, with no frame and no redirect', async () => {
    fakeBff();
    await mount(`<latch-login bff="${BFF}"></latch-login>`);
    await settle('signed-out');
    await new Promise((r) => setTimeout(r, 100));
    expect(document.querySelectorAll('iframe').length).to.equal(0);
    expect(navigations).to.deep.equal([]);
  });

  it('silent="true": a hidden frame at /login?prompt=none&mode=silent&returnTo=<this page>; its ok signs in (latch-login), with nothing flashing meanwhile', async () => {
    const bff = fakeBff();
    const seen = record('latch-login', 'latch-session-change');
    void mount(SILENT);
    const f = await frame();
    const url = new URL(f.src);
    expect(url.origin + url.pathname).to.equal(`${BFF}/login`);
    expect(url.searchParams.get('prompt')).to.equal('none');
    expect(url.searchParams.get('mode')).to.equal('silent');
    expect(url.searchParams.get('returnTo')).to.equal(location.href);
    expect(f.hidden).to.equal(true);
    expect(f.getAttribute('aria-hidden')).to.equal('true');
    expect(f.tabIndex).to.equal(-1);
    // Meanwhile the page's first check has not settled: no "Sign in" that would then vanish.
    expect(state.status).to.equal('loading');
    expect(Number(sessionStorage.getItem(SILENT_AT))).to.be.closeTo(Date.now(), 5000);
    bff.user = { ...ADA };
    await answer(f, { ok: true });
    await settle('signed-in');
    expect(seen.filter((e) => e.type == 'latch-login')).to.have.length(1);
    expect(seen.map((e) => e.detail.status)).to.not.include('signed-out');
    expect(frames()).to.equal(0);
    expect(bff.callsTo('/me')).to.have.length(2);
    expect(navigations).to.deep.equal([]);
  });

  it('ignores a message from another origin, or from another window of the BFF\'s origin', async () => {
    const bff = fakeBff();
    mountSilently();
    const f = await frame();
    await load('silent');
    const other = document.createElement('iframe');
    document.documentElement.append(other);
    try {
      bff.user = { ...ADA };
      const forged = { type: 'latch:login', ok: true } satisfies LatchPopupMessage;
      window.dispatchEvent(new MessageEvent('message', { data: forged, origin: 'https://evil.latch.test', source: f.contentWindow }));
      window.dispatchEvent(new MessageEvent('message', { data: forged, origin: BFF_ORIGIN, source: other.contentWindow }));
      await new Promise((r) => setTimeout(r, 100));
      expect(state.status).to.equal('loading');
      expect(bff.callsTo('/me')).to.have.length(1);
      expect(document.querySelector(FRAME) == f, 'the same frame').to.equal(true);
      await answer(f, { ok: true });
      await settle('signed-in');
    } finally {
      other.remove();
    }
  });

  it('the element\'s provider goes with it', async () => {
    fakeBff();
    void mount(`<latch-login bff="${BFF}" silent="true" provider="google"></latch-login>`);
    expect(new URL((await frame()).src).searchParams.get('provider')).to.equal('google');
  });

  for (const error of ['login_required', 'interaction_required', 'consent_required'])
    it(`${error}: signed out, with no error shown and no redirect`, async () => {
      fakeBff();
      const seen = record('latch-error');
      const el = mountSilently();
      await answer(await frame(), { ok: false, error });
      await settle('signed-out');
      expect(state.error).to.equal(null);
      expect(seen).to.deep.equal([]);
      expect(el.shadowRoot!.querySelector('[part=error]')).to.equal(null);
      expect(el.shadowRoot!.querySelector('button')!.textContent!.trim()).to.equal('Sign in');
      expect(navigations).to.deep.equal([]);
      expect(frames()).to.equal(0);
    });

  it('a frame that says nothing (refused framing, blocked cookies): the top-level variant, /login?prompt=none&returnTo=<this page>', async () => {
    fakeBff();
    latch.configure({ timeout: 300 });
    void mount(SILENT);
    await frame();
    await until(() => navigations.length, 'the redirect', 3000);
    const url = new URL(navigations[0]!);
    expect(url.origin + url.pathname).to.equal(`${BFF}/login`);
    expect(url.searchParams.get('prompt')).to.equal('none');
    expect(url.searchParams.get('returnTo')).to.equal(location.href);
    expect(url.searchParams.has('mode')).to.equal(false);
    expect(frames()).to.equal(0);
  });

  it('a frame signed in but the page still has no session (third-party cookies kept from the frame): the top-level variant', async () => {
    fakeBff();
    void mount(SILENT);
    await answer(await frame(), { ok: true });
    await until(() => navigations.length, 'the redirect');
    expect(new URL(navigations[0]!).searchParams.get('prompt')).to.equal('none');
  });

  it('back from the top-level variant with latch_error=login_required: signed out, no error, no second attempt', async () => {
    const bff = fakeBff();
    sessionStorage.setItem(SILENT_AT, String(Date.now() - 2000));
    const before = location.href;
    history.replaceState(history.state, '', '?latch_error=login_required');
    try {
      const seen = record('latch-error');
      const el = await mount(SILENT);
      await settle('signed-out');
      expect(location.search).to.equal('');
      expect(state.error).to.equal(null);
      expect(seen).to.deep.equal([]);
      expect(el.shadowRoot!.querySelector('[part=error]')).to.equal(null);
      await new Promise((r) => setTimeout(r, 100));
      expect(frames()).to.equal(0);
      expect(navigations).to.deep.equal([]);
      expect(bff.callsTo('/me')).to.have.length(1);
    } finally {
      history.replaceState(history.state, '', before);
    }
  });

  it('at most once per page load: a later check without a session tries nothing', async () => {
    const bff = fakeBff();
    mountSilently();
    await answer(await frame(), { ok: false, error: 'login_required' });
    await settle('signed-out');
    sessionStorage.removeItem(SILENT_AT);
    await latch.refresh();
    await new Promise((r) => setTimeout(r, 100));
    expect(frames()).to.equal(0);
    expect(bff.callsTo('/me')).to.have.length(2);
  });

  it('at most once per 5 minutes in a tab: the next page load tries nothing, one 5 minutes later does', async () => {
    fakeBff();
    mountSilently();
    await answer(await frame(), { ok: false, error: 'login_required' });
    await settle('signed-out');
    await reloadedWithoutAttempt();
    reload();
    sessionStorage.setItem(SILENT_AT, String(Date.now() - 5 * 60_000 - 1000));
    fakeBff();
    void mount(SILENT);
    await frame();
  });

  it('never after an explicit sign-out (no logoutUrl: the provider still has its session), until the next sign-in', async () => {
    const bff = fakeBff({ ...ADA });
    await mount(SILENT);
    await settle('signed-in');
    await latch.logout();
    expect(localStorage.getItem(SIGNED_OUT)).to.equal('1');
    await reloadedWithoutAttempt();
    expect(navigations).to.deep.equal([]);
    expect(bff.callsTo('/logout')).to.have.length(1);
    // Signed in again (a click), and out by the session's expiry: silent sign-in is back.
    reload();
    const again = fakeBff({ ...ADA });
    await mount(SILENT);
    await settle('signed-in');
    await until(() => !localStorage.getItem(SIGNED_OUT), 'the sign-out forgotten');
    again.user = null;
    await latch.refresh();
    await frame();
  });

  it('a sign-out through the provider\'s logout page that comes back tries once ("Stay signed in" at the provider keeps the user signed in)', async () => {
    const bff = fakeBff();
    // This tab tried a minute ago (signed out then), and the user signed in with a click since.
    mountSilently();
    await answer(await frame(), { ok: false, error: 'login_required' });
    await settle('signed-out');
    reload();
    const site = fakeBff({ ...ADA });
    site.logoutUrl = 'https://idp.latch.test/logout?post_logout_redirect_uri=x';
    await mount(SILENT);
    await settle('signed-in');
    await latch.logout();
    expect(navigations).to.deep.equal([site.logoutUrl]);
    expect(localStorage.getItem(SIGNED_OUT)).to.equal(null);
    expect(sessionStorage.getItem(SILENT_AT)).to.equal(PROVIDER_SIGN_OUT);
    // Back from the provider: straight to the top-level variant (a frame never gets the cookie of a
    // provider on another site, and would say login_required to a user who chose to stay signed in).
    reload();
    fakeBff();
    void mount(SILENT);
    await until(() => navigations.length, 'the redirect');
    const url = new URL(navigations[0]!);
    expect(url.origin + url.pathname).to.equal(`${BFF}/login`);
    expect(url.searchParams.get('prompt')).to.equal('none');
    expect(url.searchParams.has('mode')).to.equal(false);
    expect(frames()).to.equal(0);
    expect(Number(sessionStorage.getItem(SILENT_AT))).to.be.closeTo(Date.now(), 5000);
    expect(bff.callsTo('/me')).to.have.length(1);
  });

  it('a session-ended `logout` pushed by /events leaves the silent sign-in to the tab that signed out (it may have gone to the provider\'s page)', async () => {
    const bff = fakeBff({ ...ADA });
    await mount(SILENT);
    await settle('signed-in');
    await until(() => bff.streams.length, 'the /events stream');
    bff.user = null;
    bff.streams[0]!.send('session-ended', { reason: 'logout' });
    await settle('signed-out');
    expect(state.reason).to.equal('logout');
    expect(localStorage.getItem(SIGNED_OUT)).to.equal(null);
  });

  it('a session-ended pushed by /events (signed out elsewhere) is not undone by a silent sign-in', async () => {
    const bff = fakeBff({ ...ADA });
    await mount(SILENT);
    await settle('signed-in');
    await until(() => bff.streams.length, 'the /events stream');
    bff.user = null;
    bff.streams[0]!.send('session-ended', { reason: 'everywhere' });
    await settle('signed-out');
    expect(state.reason).to.equal('everywhere');
    await latch.refresh();
    await reloadedWithoutAttempt();
  });
});

/** Mounts a `silent="true"` element without waiting for the session (which waits for the frame). */
function mountSilently(): HTMLElement {
  const box = document.createElement('div');
  box.innerHTML = SILENT;
  document.body.append(box);
  return box.firstElementChild as HTMLElement;
}

describe('silent sign-in in the build: dist/latch-silent.js', () =>
  builtApart('silent', ['Silent sign-in', 'latch:silent', 'latch:signed-out']));

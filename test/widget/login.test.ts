/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { state } from '../../widget/client/session.ts';
import { latch, type LatchLoginElement } from '../../widget/index.ts';
import { $, ADA, BFF, fakeBff, mount, navigations, record, rendered, reset, settle, shown, until } from './fake-bff.ts';

const loginUrl = (i = 0) => new URL(navigations[i]!);
/** Clicks "Sign in" (which first makes sure of the providers) and waits for the navigation. */
async function signIn(el: Element): Promise<URL> {
  const before = navigations.length;
  $(el, 'button')!.click();
  await until(() => navigations.length > before, 'the sign-in navigation');
  return new URL(navigations.at(-1)!);
}

describe('<latch-login>', () => {
  beforeEach(reset);
  after(reset);

  describe('loading', () => {
    it('shows a placeholder of the button size, and nothing shifts when the answer comes', async () => {
      const bff = fakeBff();
      let answer!: () => void;
      bff.hold = new Promise((r) => (answer = r));
      document.body.innerHTML = `<p>before <latch-login bff="${BFF}"></latch-login> after</p>`;
      const el = document.querySelector('latch-login')!;
      await el.updateComplete;
      expect(state.status).to.equal('loading');
      expect($(el, '[part=skeleton]')).to.exist;
      expect($(el, 'button')).to.equal(null);
      const before = el.getBoundingClientRect();
    expect($(el, "[part=skeleton]")!.getAttribute("aria-hidden")).to.equal("true");
      answer();
      await settle('signed-out');
      const after = el.getBoundingClientRect();
      expect($(el, '[part=button]')!.textContent!.trim()).to.equal('Sign in');
      expect(after.height).to.equal(before.height);
      expect(after.width).to.equal(before.width);
      expect(after.top).to.equal(before.top);
    });
  });

  describe('signed out', () => {
    it('shows "Sign in", which goes to the BFF\'s /login with this page as returnTo', async () => {
      fakeBff();
      const el = await mount<LatchLoginElement>(`<latch-login bff="${BFF}/"></latch-login>`);
      const button = $(el, 'button')!;
      expect(button.textContent!.trim()).to.equal('Sign in');
      expect(button.hasAttribute('disabled')).to.equal(false);
      const url = await signIn(el);
      expect(url.origin + url.pathname).to.equal(`${BFF}/login`);
      expect(url.searchParams.get('returnTo')).to.equal(location.href);
      expect(url.searchParams.has('mode')).to.equal(false);
    });

    it('passes return-to, login-hint, organization, connection and prompt to /login', async () => {
      fakeBff();
      const el = await mount(
        `<latch-login bff="${BFF}" return-to="https://www.latch.test/account" login-hint="ada@example.com"
           organization="org_42" connection="google" prompt="select_account" provider="google"></latch-login>`,
      );
      const q = (await signIn(el)).searchParams;
      expect(q.get('returnTo')).to.equal('https://www.latch.test/account');
      expect(q.get('login_hint')).to.equal('ada@example.com');
      expect(q.get('organization_id')).to.equal('org_42');
      expect(q.get('connection_id')).to.equal('google');
      expect(q.get('prompt')).to.equal('select_account');
      expect(q.get('provider')).to.equal('google');
    });

    it('leaves out the attributes that are not set', async () => {
      fakeBff();
      const el = await mount(`<latch-login bff="${BFF}" prompt="login"></latch-login>`);
      // proof=1 always: the callback's proof of the sign-in tells blocked cookies from signed out.
      expect([...(await signIn(el)).searchParams.keys()].sort()).to.deep.equal(['prompt', 'proof', 'returnTo']);
    });
  });

  describe('signing in', () => {
    it('disables the button and marks it aria-busy', async () => {
      fakeBff();
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      const button = $(el, 'button')!;
      expect(button.getAttribute('aria-busy')).to.equal('false');
      button.click();
      await rendered();
      expect(state.status).to.equal('signing-in');
      const busy = $(el, 'button')!;
      expect(busy.hasAttribute('disabled')).to.equal(true);
      expect(busy.getAttribute('aria-busy')).to.equal('true');
      expect($(el, '[role=status]')!.textContent).to.equal('Signing in…');
    });

    it('is left when the page comes back from the back/forward cache', async () => {
      fakeBff();
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      $(el, 'button')!.click();
      await rendered();
      window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
      await settle('signed-out');
      expect($(el, 'button')!.hasAttribute('disabled')).to.equal(false);
    });
  });

  describe('signed in', () => {
    it('shows the name and the initial as avatar, with the menu closed', async () => {
      fakeBff({ ...ADA });
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      const button = $(el, 'button[part=button]')!;
      expect($(el, '[part=name]')!.textContent).to.equal('Ada Lovelace');
      expect($(el, '[part=avatar]')!.textContent).to.equal('A');
      expect(button.getAttribute('aria-haspopup')).to.equal('menu');
      expect(button.getAttribute('aria-expanded')).to.equal('false');
      expect($(el, '[part=menu]')).to.equal(null);
    });

    it("shows the user's picture as avatar", async () => {
      fakeBff({ ...ADA, picture: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' });
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      const img = $<HTMLImageElement>(el, 'img[part=avatar]')!;
      expect(img.src).to.equal('data:image/gif;base64,R0lGODlhAQABAAAAACw=');
      expect(img.alt).to.equal('');
    });

    it('falls back to preferred_username, email, then sub for the name', async () => {
      fakeBff({ sub: 'user-2', email: 'grace@example.com' });
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      expect($(el, '[part=name]')!.textContent).to.equal('grace@example.com');
    });

    it('opens the menu on click, with "Sign out" in it', async () => {
      fakeBff({ ...ADA });
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      $(el, 'button')!.click();
      await rendered();
      expect($(el, 'button')!.getAttribute('aria-expanded')).to.equal('true');
      const item = await shown(el, '[role=menuitem]');
      expect(item.textContent!.trim()).to.equal('Sign out');
      await until(() => el.shadowRoot!.activeElement == item, 'focus on "Sign out"');
      // A second click closes it.
      $(el, 'button')!.click();
      await rendered();
      expect($(el, '[part=menu]')).to.equal(null);
      expect($(el, 'button')!.getAttribute('aria-expanded')).to.equal('false');
    });

    it('"Sign out" POSTs /logout with credentials and the CSRF header, then shows "Sign in"', async () => {
      const bff = fakeBff({ ...ADA });
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      $(el, 'button')!.click();
      (await shown(el, '[role=menuitem]')).click();
      await settle('signed-out');
      const [call] = bff.callsTo('/logout');
      expect(call!.method).to.equal('POST');
      expect(call!.credentials).to.equal('include');
      expect(call!.headers.get('Latch-CSRF')).to.equal('1');
      expect($(el, 'button')!.textContent!.trim()).to.equal('Sign in');
      expect(navigations).to.deep.equal([]);
    });

    it("goes to the BFF's logoutUrl when it answers one", async () => {
      const bff = fakeBff({ ...ADA });
      // The BFF's own /logout/end, which redirects to the provider (the page never sees the hint).
      bff.logoutUrl = `${BFF}/logout/end?handle=Fe26.2*1*h`;
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      $(el, 'button')!.click();
      (await shown(el, '[role=menuitem]')).click();
      await until(() => navigations.length == 1, 'navigation');
      expect(navigations[0]).to.equal(`${BFF}/logout/end?handle=Fe26.2*1*h`);
    });

    it('closes the menu when focus leaves the element', async () => {
      fakeBff({ ...ADA });
      document.body.innerHTML = `<button id="outside">x</button>`;
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      $(el, 'button')!.click();
      await shown(el, '[part=menu]');
      await until(() => el.shadowRoot!.activeElement, 'focus in the menu');
      document.getElementById('outside')!.focus();
      await rendered();
      expect($(el, '[part=menu]')).to.equal(null);
    });
  });

  describe('error', () => {
    it("shows the callback's latch_error in words with Retry, and removes it from the address bar", async () => {
      const start = location.href;
      history.replaceState(null, '', '?keep=1&latch_error=access_denied#top');
      try {
        fakeBff();
        const seen = record('latch-error');
        const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
        expect(state.status).to.equal('error');
        await shown(el, '[part=error]');
        expect(state.error).to.deep.equal({ code: 'access_denied', source: 'callback' });
        expect($(el, '[part=error]')!.textContent).to.equal('Sign-in was cancelled.');
        expect($(el, '[role=status]')!.textContent).to.equal('Sign-in was cancelled.');
        expect($(el, 'button')!.textContent!.trim()).to.equal('Retry');
        expect(location.search).to.equal('?keep=1');
        expect(location.hash).to.equal('#top');
        expect(seen.map((e) => e.detail.code)).to.deep.equal(['access_denied']);
      } finally {
        history.replaceState(null, '', start);
      }
    });

    it('shows a generic message for a code it has no words for', async () => {
      const start = location.href;
      history.replaceState(null, '', '?latch_error=LATCH_TOKEN_EXCHANGE_FAILED');
      try {
        fakeBff();
        const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
        expect((await shown(el, '[part=error]')).textContent).to.equal('Sign-in failed. Please try again.');
      } finally {
        history.replaceState(null, '', start);
      }
    });

    it('Retry after a failed sign-in starts a new sign-in', async () => {
      const start = location.href;
      history.replaceState(null, '', '?latch_error=access_denied');
      try {
        fakeBff();
        const el = await mount(`<latch-login bff="${BFF}" login-hint="ada@example.com"></latch-login>`);
        await shown(el, '[part=error]');
        $(el, 'button')!.click();
        await rendered();
        expect(state.status).to.equal('signing-in');
        expect(state.error).to.equal(null);
        expect(loginUrl().searchParams.get('login_hint')).to.equal('ada@example.com');
      } finally {
        history.replaceState(null, '', start);
      }
    });

    it('says clearly when the BFF cannot be reached, and Retry asks again', async () => {
      const bff = fakeBff({ ...ADA });
      bff.fail = 'network';
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      expect(state.error).to.deep.equal({ code: 'LATCH_UNREACHABLE', source: 'bff' });
      expect((await shown(el, '[part=error]')).textContent).to.equal('The sign-in service cannot be reached.');
      expect($(el, '[part=skeleton]')).to.equal(null);
      bff.fail = null;
      $(el, 'button')!.click();
      await settle('signed-in');
      expect(bff.callsTo('/me')).to.have.length(2);
      expect($(el, '[part=name]')!.textContent).to.equal('Ada Lovelace');
    });

    it('gives up on a BFF that does not answer, after the timeout', async () => {
      const bff = fakeBff();
      bff.hold = new Promise(() => {});
      latch.configure({ timeout: 150 });
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      expect(state.error?.code).to.equal('LATCH_UNREACHABLE');
      await shown(el, '[part=error]');
    });

    it('maps a 5xx from /me to the error state with its code', async () => {
      const bff = fakeBff();
      bff.fail = 503;
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      expect(state.error).to.deep.equal({ code: 'LATCH_UPSTREAM_UNAVAILABLE', source: 'bff' });
      expect((await shown(el, '[part=error]')).textContent).to.equal('Sign-in failed. Please try again.');
    });

    it('reports LATCH_NO_BFF when no element and no configure() names the BFF', async () => {
      const el = await mount(`<latch-login></latch-login>`);
      expect(state.error?.code).to.equal('LATCH_NO_BFF');
      await shown(el, '[part=error]');
    });
  });

  describe('announcements', () => {
    it('does not announce the first state, then announces each change politely', async () => {
      const bff = fakeBff({ ...ADA });
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      const live = $(el, '[role=status]')!;
      expect(live.textContent).to.equal('');
      $(el, 'button')!.click();
      (await shown(el, '[role=menuitem]')).click();
      await settle('signed-out');
      expect($(el, '[role=status]')).to.equal(live);
      expect(live.textContent).to.equal('Signed out');
      bff.user = { ...ADA };
      await latch.refresh();
      await rendered();
      expect(live.textContent).to.equal('Signed in as Ada Lovelace');
    });

    it('says nothing while loading again after Retry, then announces the outcome', async () => {
      const bff = fakeBff({ ...ADA });
      bff.fail = 'network';
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      await shown(el, '[part=error]');
      const live = $(el, '[role=status]')!;
      expect(live.textContent).to.equal('The sign-in service cannot be reached.');
      let answer!: () => void;
      bff.hold = new Promise((r) => (answer = r));
      bff.fail = null;
      $(el, 'button')!.click();
      await rendered();
      expect(state.status).to.equal('loading');
      expect(live.textContent).to.equal('');
      answer();
      await settle('signed-in');
      expect(live.textContent).to.equal('Signed in as Ada Lovelace');
    });
  });
});

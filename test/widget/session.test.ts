/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import type { MeResponse } from '../../bff/contract.ts';
import { state } from '../../widget/client/session.ts';
import { latch, LatchError, type LatchSessionState } from '../../widget/index.ts';
import { $, ADA, BFF, fakeBff, mount, navigations, openStream, record, rendered, reset, settle, shown, until } from './fake-bff.ts';

const EVENTS = ['latch-login', 'latch-logout', 'latch-session-change', 'latch-error', 'latch-expiring'];

describe('the shared session', () => {
  beforeEach(reset);
  after(reset);

  it('fetches /me once, with credentials, however many elements the page holds', async () => {
    const bff = fakeBff({ ...ADA });
    await mount(`
      <latch-login bff="${BFF}"></latch-login>
      <latch-login></latch-login>
      <latch-gate><p>a</p></latch-gate>
      <latch-gate><p>b</p></latch-gate>
      <latch-user></latch-user>`);
    await mount(`<latch-gate><p>added later</p></latch-gate>`);
    expect(bff.callsTo('/me')).to.have.length(1);
    expect(bff.calls[0]!.url).to.equal(`${BFF}/me`);
    expect(bff.calls[0]!.credentials).to.equal('include');
    for (const el of document.querySelectorAll('latch-login'))
      expect($(el, '[part=name]')!.textContent).to.equal('Ada Lovelace');
  });

  it('shares one /me request among checks that overlap', async () => {
    const bff = fakeBff({ ...ADA });
    latch.configure({ bff: BFF });
    await Promise.all([latch.me(), latch.refresh(), latch.refresh(), latch.me()]);
    expect(bff.callsTo('/me')).to.have.length(1);
    await latch.refresh();
    expect(bff.callsTo('/me')).to.have.length(2);
  });

  it('takes the BFF from the first element that names it', async () => {
    const bff = fakeBff();
    await mount(`<latch-gate></latch-gate><latch-login bff="${BFF}/"></latch-login>`);
    expect(bff.callsTo('/me')).to.have.length(1);
  });

  it('can be named by latch.configure({ bff }) instead of an attribute', async () => {
    const bff = fakeBff({ ...ADA });
    latch.configure({ bff: BFF });
    await mount(`<latch-login></latch-login>`);
    expect(bff.callsTo('/me')).to.have.length(1);
    expect(state.status).to.equal('signed-in');
  });

  describe('the latch API', () => {
    it('latch.session is the live state; latch.me() waits for the first answer', async () => {
      fakeBff({ ...ADA });
      latch.configure({ bff: BFF });
      expect(latch.session.status).to.equal('loading');
      const user = await latch.me();
      expect(user).to.deep.equal(ADA);
      expect(latch.session.status).to.equal('signed-in');
      expect(latch.session.user).to.deep.equal(ADA);
      expect(latch.session.expiresAt).to.be.a('number');
    });

    it('latch.me() is null when signed out, and rejects with a coded LatchError when the BFF is down', async () => {
      const bff = fakeBff();
      latch.configure({ bff: BFF });
      expect(await latch.me()).to.equal(null);
      bff.fail = 'network';
      await latch.refresh();
      const err = await latch.me().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(LatchError);
      expect((err as LatchError).code).to.equal('LATCH_UNREACHABLE');
    });

    it("latch.on('change') hands out snapshots until unsubscribed", async () => {
      const bff = fakeBff({ ...ADA });
      const seen: LatchSessionState[] = [];
      const off = latch.on('change', (s) => seen.push(s));
      latch.configure({ bff: BFF });
      await latch.me();
      expect(seen.map((s) => s.status)).to.deep.equal(['signed-in']);
      expect(seen[0]).not.to.equal(latch.session);
      await latch.logout();
      expect(seen.map((s) => s.status)).to.deep.equal(['signed-in', 'signed-out']);
      off();
      bff.user = { ...ADA };
      await latch.refresh();
      expect(seen).to.have.length(2);
    });

    it('latch.login() goes to /login with the options, latch.login({ mode: "password" }) falls back to a redirect', async () => {
      fakeBff();
      latch.configure({ bff: BFF });
      await latch.me();
      await latch.login({ returnTo: 'https://www.latch.test/x', prompt: 'create', loginHint: 'a@b.c' });
      const q = new URL(navigations[0]!).searchParams;
      expect(Object.fromEntries(q)).to.deep.equal({
        returnTo: 'https://www.latch.test/x',
        proof: '1',
        prompt: 'create',
        login_hint: 'a@b.c',
      });
      await latch.login({ mode: 'password' });
      expect(navigations[1]!.split('?')[0]).to.equal(`${BFF}/login`);
    });

    it('latch.fetch() calls /api/... with credentials and the CSRF header, keeping the caller\'s init', async () => {
      const bff = fakeBff({ ...ADA });
      latch.configure({ bff: BFF });
      await latch.me();
      const res = await latch.fetch('/orders?page=2', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      expect(await res.json()).to.deep.equal({ path: '/api/orders' });
      await latch.fetch('/api/orders');
      await latch.fetch('orders');
      const calls = bff.calls.filter((c) => c.url.includes('/api/'));
      expect(calls.map((c) => c.url)).to.deep.equal([
        `${BFF}/api/orders?page=2`,
        `${BFF}/api/orders`,
        `${BFF}/api/orders`,
      ]);
      expect(calls[0]!.method).to.equal('POST');
      expect(calls[0]!.credentials).to.equal('include');
      expect(calls[0]!.headers.get('latch-csrf')).to.equal('1');
      expect(calls[0]!.headers.get('content-type')).to.equal('application/json');
      expect(calls[0]!.body).to.equal('{"a":1}');
    });

    it('latch.fetch() answered 401 makes the session check /me again', async () => {
      const bff = fakeBff({ ...ADA });
      latch.configure({ bff: BFF });
      await latch.me();
      // Signed in, the page opens its /events stream: opened after the session ended, it would ask /me itself.
      await until(() => openStream(bff), 'the /events stream');
      bff.user = null;
      const res = await latch.fetch('/orders');
      expect(res.status).to.equal(401);
      await until(() => state.status == 'signed-out', 'signed-out');
      expect(bff.callsTo('/me')).to.have.length(2);
    });

    it('is the global window.latch too', () => {
      expect((globalThis as { latch?: unknown }).latch).to.equal(latch);
    });
  });

  describe('events', () => {
    it('every event bubbles, is composed, and reaches the document once', async () => {
      const bff = fakeBff();
      const seen = record(...EVENTS);
      const host = document.createElement('div');
      document.body.append(host);
      const shadow = host.attachShadow({ mode: 'open' });
      shadow.innerHTML = `<latch-login bff="${BFF}"></latch-login><latch-login></latch-login>`;
      await settle('signed-out');
      bff.user = { ...ADA };
      bff.expiresAt = Date.now() + 50;
      await latch.refresh();
      await until(() => seen.some((e) => e.type == 'latch-expiring'), 'latch-expiring');
      bff.fail = 'network';
      await latch.refresh();
      expect(new Set(seen.map((e) => e.type))).to.deep.equal(
        new Set(['latch-session-change', 'latch-login', 'latch-expiring', 'latch-error']),
      );
      for (const e of seen) {
        expect(e.bubbles, e.type).to.equal(true);
        expect(e.composed, e.type).to.equal(true);
        expect(e).to.be.instanceOf(CustomEvent);
      }
      expect(seen.filter((e) => e.type == 'latch-login')).to.have.length(1);
    });

    it('latch-login carries the user; latch-logout the user who was signed in', async () => {
      const bff = fakeBff();
      const seen = record('latch-login', 'latch-logout');
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      bff.user = { ...ADA };
      await latch.refresh();
      await rendered();
      $(el, 'button')!.click();
      (await shown(el, '[role=menuitem]')).click();
      await settle('signed-out');
      expect(seen.map((e) => [e.type, e.detail.user])).to.deep.equal([
        ['latch-login', ADA],
        ['latch-logout', ADA],
      ]);
      expect(seen[1]!.target).to.equal(el);
    });

    it('no latch-login for a session that was there when the page loaded', async () => {
      fakeBff({ ...ADA });
      const seen = record('latch-login', 'latch-session-change');
      await mount(`<latch-login bff="${BFF}"></latch-login>`);
      expect(seen.map((e) => e.type)).to.deep.equal(['latch-session-change']);
      expect(seen[0]!.detail.status).to.equal('signed-in');
    });

    it('latch-login after coming back from a redirect sign-in (with its proof), not after a return without one', async () => {
      const page = location.href;
      fakeBff();
      latch.configure({ bff: BFF });
      await latch.me();
      await latch.login();
      expect(new URL(navigations[0]!).searchParams.get('proof')).to.equal('1');
      // The page "comes back" from the authorization server: a fresh page, same tab, with the
      // callback's proof in the address, as the BFF hands it back.
      reset();
      history.replaceState(null, '', '?latch_proof=Fe26.2*1*proof');
      try {
        const bff = fakeBff({ ...ADA });
        const seen = record('latch-login');
        await mount(`<latch-login bff="${BFF}"></latch-login>`);
        expect(seen.map((e) => e.detail.user.sub)).to.deep.equal(['user-1']);
        expect(bff.callsTo('/me')[0]!.url).to.equal(`${BFF}/me?proof=Fe26.2*1*proof`);
        expect(location.search).to.equal('');
        // The back button instead (no proof): the session found is the page's, not a sign-in.
        reset();
        fakeBff({ ...ADA });
        const again = record('latch-login');
        await mount(`<latch-login bff="${BFF}"></latch-login>`);
        expect(again).to.deep.equal([]);
      } finally {
        history.replaceState(null, '', page);
      }
    });

    it('latch-expiring comes ahead of expiresAt, by configure({ expiringBefore })', async () => {
      const bff = fakeBff({ ...ADA });
      bff.expiresAt = Date.now() + 1000;
      latch.configure({ bff: BFF, expiringBefore: 600 });
      const seen = record('latch-expiring');
      const at: number[] = [];
      document.addEventListener('latch-expiring', () => at.push(Date.now()), { once: true });
      await latch.me();
      await until(() => seen.length == 1, 'latch-expiring');
      expect(at[0]).to.be.at.least(bff.expiresAt - 600 - 20);
      expect(at[0]).to.be.below(bff.expiresAt);
      expect(seen[0]!.detail).to.deep.equal({ expiresAt: bff.expiresAt });
    });

    it('at expiresAt the session is checked again, and an ended one signs out', async () => {
      const bff = fakeBff({ ...ADA });
      bff.expiresAt = Date.now() + 100;
      latch.configure({ bff: BFF });
      const seen = record('latch-logout');
      await latch.me();
      bff.user = null;
      await until(() => seen.length == 1, 'latch-logout', 3000);
      expect(state.status).to.equal('signed-out');
    });

    it('no duplicate events when a re-check finds nothing new', async () => {
      fakeBff({ ...ADA });
      latch.configure({ bff: BFF });
      await latch.me();
      const seen = record(...EVENTS);
      await latch.refresh();
      await latch.refresh();
      expect(seen).to.deep.equal([]);
    });
  });

  describe('sign-out', () => {
    it('a session already gone at the BFF (401) ends signed out, not in an error', async () => {
      const bff = fakeBff({ ...ADA });
      latch.configure({ bff: BFF });
      await latch.me();
      const realFetch = window.fetch;
      window.fetch = async (input, init) =>
        String(input).endsWith('/logout')
          ? new Response('{"error":{"code":"LATCH_UNAUTHENTICATED","message":"x"}}', { status: 401 })
          : realFetch(input, init);
      await latch.logout();
      expect(state.status).to.equal('signed-out');
      expect(state.error).to.equal(null);
      expect(bff.callsTo('/logout')).to.have.length(0);
    });

    it('a refused sign-out (403 LATCH_CSRF) shows the error', async () => {
      fakeBff({ ...ADA });
      latch.configure({ bff: BFF });
      await latch.me();
      const realFetch = window.fetch;
      window.fetch = async (input, init) =>
        String(input).endsWith('/logout')
          ? new Response('{"error":{"code":"LATCH_CSRF","message":"x"}}', { status: 403 })
          : realFetch(input, init);
      await latch.logout();
      expect(state.status).to.equal('error');
      expect(state.error).to.deep.equal({ code: 'LATCH_CSRF', source: 'bff' });
    });
  });

  describe('several tabs', () => {
    it('a sign-out here tells the other tabs', async () => {
      fakeBff({ ...ADA });
      const other = new BroadcastChannel(`latch:${BFF}`);
      const heard: unknown[] = [];
      other.onmessage = (e) => heard.push(e.data);
      try {
        latch.configure({ bff: BFF });
        await latch.me();
        await latch.logout();
        await until(() => heard.length == 1, 'broadcast');
        expect(heard).to.deep.equal([{ me: null, reason: null }]);
      } finally {
        other.close();
      }
    });

    it('a sign-in or sign-out in another tab shows here within a second', async () => {
      const bff = fakeBff();
      const el = await mount(`<latch-login bff="${BFF}"></latch-login><latch-gate><p>x</p></latch-gate>`);
      const other = new BroadcastChannel(`latch:${BFF}`);
      const seen = record('latch-login', 'latch-logout');
      try {
        const me: MeResponse = { user: { ...ADA }, expiresAt: Date.now() + 3_600_000 };
        bff.user = me.user;
        other.postMessage({ me });
        await until(() => state.status == 'signed-in', 'signed-in', 1000);
        await rendered();
        expect($(el, '[part=name]')!.textContent).to.equal('Ada Lovelace');
        other.postMessage({ me: null });
        await until(() => state.status == 'signed-out', 'signed-out', 1000);
        await rendered();
        expect($(el, 'button')!.textContent!.trim()).to.equal('Sign in');
        expect(seen.map((e) => e.type)).to.deep.equal(['latch-login', 'latch-logout']);
        expect(bff.callsTo('/me')).to.have.length(1);
      } finally {
        other.close();
      }
    });
  });

  describe('visibility', () => {
    let hidden = false;
    beforeEach(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    });
    afterEach(() => {
      delete (document as { visibilityState?: unknown }).visibilityState;
    });
    const toggle = (h: boolean) => {
      hidden = h;
      document.dispatchEvent(new Event('visibilitychange'));
    };

    it('checks /me again when the tab becomes visible after being hidden a while', async () => {
      const bff = fakeBff({ ...ADA });
      latch.configure({ bff: BFF, recheckAfter: 100 });
      await latch.me();
      await until(() => openStream(bff), 'the /events stream');
      toggle(true);
      toggle(false);
      expect(bff.callsTo('/me')).to.have.length(1);
      toggle(true);
      bff.user = null;
      await new Promise((r) => setTimeout(r, 150));
      toggle(false);
      await until(() => state.status == 'signed-out', 'signed-out');
      expect(bff.callsTo('/me')).to.have.length(2);
    });
  });
});

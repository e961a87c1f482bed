/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import type { LatchPopupMessage } from '../../bff/contract.ts';
import { io, state } from '../../widget/client/session.ts';
import { load } from '../../widget/lazy.ts';
import { $, ADA, BFF, BFF_ORIGIN, fakeBff, mount, navigations, record, rendered, reset, settle, shown, until } from './fake-bff.ts';

/** A real WindowProxy to stand in for the popup (MessageEvent.source must be one). */
function fakePopup(): { win: Window; close(): void } {
  const frame = document.createElement('iframe');
  document.documentElement.append(frame);
  return { win: frame.contentWindow!, close: () => frame.remove() };
}

const post = (data: unknown, origin: string, source: Window | null) =>
  window.dispatchEvent(new MessageEvent('message', { data, origin, source }));

const OK: LatchPopupMessage = { type: 'latch:login', ok: true };

describe('<latch-login mode="popup">', () => {
  const realOpen = io.open;
  let opened: string[];
  let popup: ReturnType<typeof fakePopup>;
  let handedOut: boolean;

  beforeEach(() => {
    reset();
    opened = [];
    handedOut = false;
    popup = fakePopup();
    io.open = (url) => (opened.push(url), (handedOut = true), popup.win);
  });
  afterEach(async () => {
    io.open = realOpen;
    // A popup still open when a test ends: close it and let its sign-in end here, not in the next test.
    const pending = handedOut && !popup.win.closed && state.status == 'signing-in';
    popup.close();
    if (pending) await until(() => state.status != 'signing-in', 'the popup sign-in to end');
  });
  after(reset);

  /**
   * Clicks "Sign in" and waits for the popup's chunk (latch-popup.js), which hears the popup's
   * message (a real popup sign-in takes longer than that chunk's load).
   */
  async function clickSignIn(attrs = ''): Promise<HTMLElement> {
    const el = await mount(`<latch-login bff="${BFF}" mode="popup" ${attrs}></latch-login>`);
    $(el, 'button')!.click();
    await until(() => opened.length || navigations.length, 'the popup or the redirect');
    await load('popup');
    await rendered();
    return el;
  }

  it("opens the BFF's /login with mode=popup, and shows signing in", async () => {
    fakeBff();
    const el = await clickSignIn('prompt="login"');
    const url = new URL(opened[0]!);
    expect(url.origin + url.pathname).to.equal(`${BFF}/login`);
    expect(url.origin).to.equal(BFF_ORIGIN);
    expect(url.searchParams.get('mode')).to.equal('popup');
    expect(url.searchParams.get('prompt')).to.equal('login');
    expect(url.searchParams.get('returnTo')).to.equal(location.href);
    expect(navigations).to.deep.equal([]);
    expect($(el, 'button')!.getAttribute('aria-busy')).to.equal('true');
  });

  it("signs in on the popup's message from the BFF's origin, and tells the other tabs", async () => {
    const bff = fakeBff();
    const other = new BroadcastChannel(`latch:${BFF}`);
    const heard: unknown[] = [];
    other.onmessage = (e) => heard.push(e.data);
    try {
      const seen = record('latch-login');
      const el = await clickSignIn();
      bff.user = { ...ADA };
      post(OK, BFF_ORIGIN, popup.win);
      await settle('signed-in');
      expect($(el, '[part=name]')!.textContent).to.equal('Ada Lovelace');
      expect(seen.map((e) => e.detail.user.sub)).to.deep.equal(['user-1']);
      expect(seen[0]!.target).to.equal(el);
      await until(() => heard.length == 1, 'broadcast');
      expect(heard[0]).to.have.nested.property('me.user.sub', 'user-1');
    } finally {
      other.close();
    }
  });

  for (const [what, origin, source] of [
    ['another origin', 'https://evil.latch.test', 'popup'],
    ['the page itself', location.origin, 'popup'],
    ["the BFF's host on another scheme", 'http://auth.latch.test', 'popup'],
    ['another window, even from the BFF origin', BFF_ORIGIN, 'window'],
  ] as const) {
    it(`ignores a message from ${what}`, async () => {
      const bff = fakeBff();
      await clickSignIn();
      bff.user = { ...ADA };
      post(OK, origin, source == 'popup' ? popup.win : window);
      await new Promise((r) => setTimeout(r, 50));
      expect(state.status).to.equal('signing-in');
      expect(bff.callsTo('/me')).to.have.length(1);
      post(OK, BFF_ORIGIN, popup.win);
      await settle('signed-in');
    });
  }

  it('ignores messages of another type', async () => {
    const bff = fakeBff();
    await clickSignIn();
    post({ type: 'something-else', ok: true }, BFF_ORIGIN, popup.win);
    post('latch:login', BFF_ORIGIN, popup.win);
    await new Promise((r) => setTimeout(r, 50));
    expect(state.status).to.equal('signing-in');
    expect(bff.callsTo('/me')).to.have.length(1);
  });

  it("shows the popup's error in words, with Retry opening the popup again", async () => {
    fakeBff();
    const seen = record('latch-error');
    const el = await clickSignIn();
    post({ type: 'latch:login', ok: false, error: 'access_denied' } satisfies LatchPopupMessage, BFF_ORIGIN, popup.win);
    await settle('error');
    expect(state.error).to.deep.equal({ code: 'access_denied', source: 'callback' });
    expect((await shown(el, '[part=error]')).textContent).to.equal('Sign-in was cancelled.');
    expect(seen.map((e) => e.detail.code)).to.deep.equal(['access_denied']);
    $(el, 'button')!.click();
    await rendered();
    expect(opened).to.have.length(2);
    expect(state.status).to.equal('signing-in');
  });

  it('goes back to signed out when the popup is closed without a message', async () => {
    const bff = fakeBff();
    const el = await clickSignIn();
    popup.close();
    await settle('signed-out');
    expect(bff.callsTo('/me')).to.have.length(2);
    expect($(el, 'button')!.hasAttribute('disabled')).to.equal(false);
  });

  it('falls back to a redirect when the popup is blocked', async () => {
    fakeBff();
    io.open = (url) => (opened.push(url), null);
    await clickSignIn('login-hint="ada@example.com"');
    expect(opened).to.have.length(1);
    expect(navigations).to.have.length(1);
    const url = new URL(navigations[0]!);
    expect(url.href.split('?')[0]).to.equal(`${BFF}/login`);
    expect(url.searchParams.has('mode')).to.equal(false);
    expect(url.searchParams.get('login_hint')).to.equal('ada@example.com');
  });

  it('opens a real popup window with window.open (not noopener)', async () => {
    fakeBff();
    io.open = realOpen;
    const calls: unknown[][] = [];
    const original = window.open;
    window.open = (...args: unknown[]) => (calls.push(args), null);
    try {
      await clickSignIn();
    } finally {
      window.open = original;
    }
    expect(calls).to.have.length(1);
    expect(String(calls[0]![0])).to.contain('mode=popup');
    expect(String(calls[0]![2])).to.match(/^popup/);
    expect(String(calls[0]![2])).not.to.contain('noopener');
    expect(navigations).to.have.length(1);
  });
});

/// <reference types="mocha" />
// Sign-ins across a site boundary (docs/embedding.md), against a BFF faked at the fetch level on
// this page's own origin (so that the popup, an iframe here, can be read after it navigates):
// the callback's proof and LATCH_THIRD_PARTY_COOKIES_BLOCKED, and <latch-login mode="handoff">.
import { expect } from '@esm-bundle/chai';
import type { ErrorBody, HandoffRequest, LatchPopupMessage, LatchUser, MeResponse } from '../../bff/contract.ts';
import { io, state } from '../../widget/client/session.ts';
import { words } from '../../widget/chunks/diagnose.ts';
import { failure } from '../../widget/i18n/en.ts';
import { load } from '../../widget/lazy.ts';
import { builtApart } from './built.ts';
import { $, ADA, mount, navigations, record, rendered, reset, settle, shown, until } from './fake-bff.ts';

const BFF = `${location.origin}/hbff-${Math.random().toString(36).slice(2, 10)}`;
const PROOF = 'Fe26.2*1*proof';
const BLOCKED_WORDS = 'You signed in, but the browser does not send the BFF\'s session cookie with this page\'s requests: see docs/embedding.md.';

interface Call {
  path: string;
  query: URLSearchParams;
  method: string;
  headers: Headers;
  credentials: RequestCredentials | undefined;
  body: string;
}

interface HandoffBff {
  calls: Call[];
  /** Signed in for /me (the partitioned cookie, once set). */
  user: LatchUser | null;
  /** The challenge the popup's /login carried, and the code the test posts for it. */
  challenge: string | null;
  code: string;
  /** What POST /handoff answers instead of checking (a status and code). */
  refuse: { status: number; code: ErrorBody['error']['code'] } | null;
  /** The browser keeps the partitioned cookie (false: /me stays 401 after a redemption). */
  keepsCookie: boolean;
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const error = (status: number, code: ErrorBody['error']['code'], message: string = code) => json(status, { error: { code, message } } satisfies ErrorBody);

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The BFF's /me (with the proof), /handoff and /logout, as the real routes answer them. */
function handoffBff(): HandoffBff {
  const bff: HandoffBff = { calls: [], user: null, challenge: null, code: 'c'.repeat(43), refuse: null, keepsCookie: true };
  const realFetch = window.fetch;
  window.fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    if (!url.href.startsWith(BFF)) return realFetch(input, init);
    const path = url.pathname.slice(new URL(BFF).pathname.length);
    // What a signed-out page asks besides (one provider, as without /providers): not these tests' matter.
    if (path == '/providers') return error(404, 'LATCH_NOT_FOUND');
    const headers = new Headers(init.headers);
    bff.calls.push({ path, query: url.searchParams, method: init.method ?? 'GET', headers, credentials: init.credentials, body: String(init.body ?? '') });
    if (path == '/me') {
      if (bff.user) return json(200, { user: bff.user, expiresAt: Date.now() + 3_600_000, sameSite: false } satisfies MeResponse);
      return url.searchParams.get('proof') == PROOF ? error(401, 'LATCH_THIRD_PARTY_COOKIES_BLOCKED', BLOCKED_WORDS) : error(401, 'LATCH_UNAUTHENTICATED');
    }
    if (path == '/handoff') {
      if (bff.refuse) return error(bff.refuse.status, bff.refuse.code);
      if (init.method != 'POST' || headers.get('latch-csrf') != '1' || headers.get('content-type') != 'application/json') return error(403, 'LATCH_CSRF');
      const { code, verifier } = JSON.parse(String(init.body)) as HandoffRequest;
      if (code != bff.code) return error(400, 'LATCH_HANDOFF_INVALID');
      if ((await s256(verifier)) != bff.challenge) return error(403, 'LATCH_HANDOFF_VERIFIER');
      if (bff.keepsCookie) bff.user = { ...ADA };
      return json(200, { user: { ...ADA }, expiresAt: Date.now() + 3_600_000, sameSite: false } satisfies MeResponse);
    }
    return error(404, 'LATCH_NOT_FOUND');
  };
  return bff;
}

/** Keeps console.error's calls (and keeps them out of the test output). */
function consoleErrors(): { calls: unknown[][]; restore(): void } {
  const real = console.error;
  const calls: unknown[][] = [];
  console.error = (...args: unknown[]) => void calls.push(args);
  return { calls, restore: () => (console.error = real) };
}

const post = (data: LatchPopupMessage, source: Window) => window.dispatchEvent(new MessageEvent('message', { data, origin: location.origin, source }));

describe('blocked third-party cookies: the callback\'s proof', () => {
  const page = location.href;
  let errors: ReturnType<typeof consoleErrors>;
  beforeEach(() => {
    reset();
    errors = consoleErrors();
  });
  afterEach(() => {
    errors.restore();
    history.replaceState(history.state, '', page);
  });
  after(reset);

  it('sends latch_proof with the first /me, removes it from the address bar, and shows LATCH_THIRD_PARTY_COOKIES_BLOCKED as an error with one console message', async () => {
    const bff = handoffBff();
    history.replaceState(history.state, '', `${page.split('?')[0]}?keep=1&latch_proof=${encodeURIComponent(PROOF)}`);
    const seen = record('latch-error', 'latch-login');
    const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    await settle('error');
    expect(location.search).to.equal('?keep=1');
    expect(bff.calls.map((c) => [c.path, c.query.get('proof')])).to.deep.equal([['/me', PROOF]]);
    expect(state.error).to.deep.equal({ code: 'LATCH_THIRD_PARTY_COOKIES_BLOCKED', source: 'bff' });
    expect(seen.map((e) => [e.type, e.detail.code])).to.deep.equal([['latch-error', 'LATCH_THIRD_PARTY_COOKIES_BLOCKED']]);
    expect(errors.calls).to.have.length(1);
    expect(String(errors.calls[0]![0])).to.equal(`latch: ${BLOCKED_WORDS}`);
    await shown(el, '[part=error]');
    // Not "Sign in", nor "Sign-in failed. Please try again." (a retry cannot help): what is wrong and who
    // can fix it, in every language the widget ships.
    // (Its English words come with the diagnosis, latch-diagnose.js, like LATCH_ORIGIN_NOT_ALLOWED's.)
    expect($(el, '[part=error]')!.textContent).to.equal(words.LATCH_THIRD_PARTY_COOKIES_BLOCKED);
    expect(words.LATCH_THIRD_PARTY_COOKIES_BLOCKED).to.match(/browser/).and.match(/owner/).and.not.equal(failure.error);
    for (const lang of ['de', 'fr', 'es']) {
      const translated = ((await import(`../../widget/i18n/${lang}.ts`)) as { default: Record<string, string> }).default['LATCH_THIRD_PARTY_COOKIES_BLOCKED'];
      expect(translated, lang).to.be.a('string').and.not.equal(words.LATCH_THIRD_PARTY_COOKIES_BLOCKED);
      el.lang = lang;
      await until(() => $(el, '[part=error]')?.textContent == translated, `${lang} words`);
    }
    el.lang = 'en';
    await rendered();
    // Retry asks /me again, without the proof, which counted once.
    $(el, 'button')!.click();
    await settle('signed-out');
    expect(bff.calls.map((c) => c.query.get('proof'))).to.deep.equal([PROOF, null]);
    expect(errors.calls).to.have.length(1);
  });

  it('a proof that no longer counts is simply signed out, without a console message', async () => {
    const bff = handoffBff();
    history.replaceState(history.state, '', `${page.split('?')[0]}?latch_proof=stale`);
    await mount(`<latch-login bff="${BFF}"></latch-login>`);
    await settle('signed-out');
    expect(location.search).to.equal('');
    expect(bff.calls[0]!.query.get('proof')).to.equal('stale');
    expect(errors.calls).to.deep.equal([]);
  });

  it('takes the proof from a popup\'s message too', async () => {
    const bff = handoffBff();
    const frame = document.createElement('iframe');
    document.documentElement.append(frame);
    const realOpen = io.open;
    io.open = () => frame.contentWindow;
    try {
      const el = await mount(`<latch-login bff="${BFF}" mode="popup"></latch-login>`);
      $(el, 'button')!.click();
      // The popup's message is heard once its chunk is there (a popup sign-in takes longer).
      await until(() => state.status == 'signing-in', 'signing in');
      await load('popup');
      await rendered();
      post({ type: 'latch:login', ok: true, proof: PROOF }, frame.contentWindow!);
      await settle('error');
      expect(bff.calls.map((c) => c.query.get('proof'))).to.deep.equal([null, PROOF]);
      expect(state.error?.code).to.equal('LATCH_THIRD_PARTY_COOKIES_BLOCKED');
    } finally {
      io.open = realOpen;
      frame.remove();
    }
  });
});

describe('<latch-login mode="handoff">', () => {
  const realOpen = io.open;
  let frame: HTMLIFrameElement;
  let opened: string[];
  let errors: ReturnType<typeof consoleErrors>;
  beforeEach(() => {
    reset();
    errors = consoleErrors();
    frame = document.createElement('iframe');
    document.documentElement.append(frame);
    opened = [];
    io.open = (url) => (opened.push(url), frame.contentWindow);
  });
  afterEach(async () => {
    io.open = realOpen;
    // A sign-in still waiting for its popup: close it and let the sign-in end here, not in the next test.
    const pending = state.status == 'signing-in';
    frame.remove();
    if (pending) await until(() => state.status != 'signing-in', 'the hand-off to end');
    errors.restore();
  });
  after(reset);

  /** The URL of the BFF's /login once the popup (the iframe, same-origin here) has gone there. */
  async function popupLogin(): Promise<URL> {
    await until(() => {
      try {
        return frame.contentWindow!.location.pathname.endsWith('/login');
      } catch {
        return false;
      }
    }, 'the popup to go to /login');
    return new URL(frame.contentWindow!.location.href);
  }

  /** Clicks "Sign in" and waits for the popup to reach the BFF's /login. */
  async function start(bff: HandoffBff): Promise<{ el: HTMLElement; login: URL }> {
    const el = await mount(`<latch-login bff="${BFF}" mode="handoff" prompt="login"></latch-login>`);
    $(el, 'button')!.click();
    const login = await popupLogin();
    bff.challenge = login.searchParams.get('handoff');
    return { el, login };
  }

  it('opens the popup in the click, sends an S256 challenge, redeems the posted code with its verifier, and is signed in once /me says so', async () => {
    const bff = handoffBff();
    const seen = record('latch-login');
    const { el, login } = await start(bff);
    expect(opened).to.deep.equal(['']);
    expect(state.status).to.equal('signing-in');
    expect(login.origin + login.pathname).to.equal(`${BFF}/login`);
    expect(login.searchParams.get('mode')).to.equal('popup');
    expect(login.searchParams.get('prompt')).to.equal('login');
    expect(login.searchParams.get('returnTo')).to.equal(location.href);
    expect(bff.challenge).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(navigations).to.deep.equal([]);

    post({ type: 'latch:login', ok: true, code: bff.code }, frame.contentWindow!);
    await settle('signed-in');
    const redeem = bff.calls.find((c) => c.path == '/handoff')!;
    expect(redeem.method).to.equal('POST');
    expect(redeem.credentials).to.equal('include');
    expect(redeem.headers.get('latch-csrf')).to.equal('1');
    const body = JSON.parse(redeem.body) as HandoffRequest;
    expect(body.code).to.equal(bff.code);
    expect(await s256(body.verifier)).to.equal(bff.challenge);
    expect(body.verifier).to.not.equal(bff.challenge);
    // (Signed in, the page also opens its /events stream, whenever its chunk is there.)
    expect(bff.calls.map((c) => c.path).filter((p) => p != '/events')).to.deep.equal(['/me', '/handoff', '/me']);
    expect($(el, '[part=name]')!.textContent).to.equal('Ada Lovelace');
    expect(seen.map((e) => e.target)).to.deep.equal([el]);
  });

  it('uses a new verifier for every sign-in', async () => {
    const bff = handoffBff();
    const first = (await start(bff)).login.searchParams.get('handoff');
    post({ type: 'latch:login', ok: false, error: 'access_denied' }, frame.contentWindow!);
    await settle('error');
    frame.contentWindow!.location.href = 'about:blank';
    await until(() => frame.contentWindow!.location.href == 'about:blank', 'the popup to be blank again');
    const el = document.querySelector('latch-login')!;
    $(el, 'button')!.click();
    expect((await popupLogin()).searchParams.get('handoff')).to.match(/^[A-Za-z0-9_-]{43}$/).and.not.equal(first);
  });

  it('shows a refused redemption as a failed sign-in, whose Retry signs in again', async () => {
    const bff = handoffBff();
    bff.refuse = { status: 403, code: 'LATCH_HANDOFF_ORIGIN' };
    const seen = record('latch-error');
    const { el } = await start(bff);
    post({ type: 'latch:login', ok: true, code: bff.code }, frame.contentWindow!);
    await settle('error');
    expect(state.error).to.deep.equal({ code: 'LATCH_HANDOFF_ORIGIN', source: 'callback' });
    expect(seen.map((e) => e.detail.code)).to.deep.equal(['LATCH_HANDOFF_ORIGIN']);
    $(el, 'button')!.click();
    await rendered();
    expect(opened).to.have.length(2);
  });

  it('says LATCH_THIRD_PARTY_COOKIES_BLOCKED (source bff, as docs/widget.md promises) when the browser refuses even the partitioned cookie; Retry asks /me, opening no popup', async () => {
    const bff = handoffBff();
    bff.keepsCookie = false;
    const seen = record('latch-error');
    const { el } = await start(bff);
    post({ type: 'latch:login', ok: true, code: bff.code }, frame.contentWindow!);
    await settle('error');
    expect(state.error).to.deep.equal({ code: 'LATCH_THIRD_PARTY_COOKIES_BLOCKED', source: 'bff' });
    expect(seen.map((e) => e.detail)).to.deep.equal([{ code: 'LATCH_THIRD_PARTY_COOKIES_BLOCKED', source: 'bff' }]);
    expect(errors.calls).to.have.length(1);
    expect(String(errors.calls[0]![0])).to.match(/partitioned.*docs\/embedding\.md/);
    const calls = bff.calls.length;
    $(el, 'button')!.click();
    await settle('signed-out');
    expect(opened).to.have.length(1, 'no second popup');
    expect(bff.calls.slice(calls).map((c) => c.path)).to.deep.equal(['/me']);
  });

  it('shows the popup\'s error, and a blocked popup, without any redirect', async () => {
    const bff = handoffBff();
    await start(bff);
    post({ type: 'latch:login', ok: false, error: 'access_denied' }, frame.contentWindow!);
    await settle('error');
    expect(state.error).to.deep.equal({ code: 'access_denied', source: 'callback' });
    expect(bff.calls.some((c) => c.path == '/handoff')).to.equal(false);

    io.open = () => null;
    $(document.querySelector('latch-login')!, 'button')!.click();
    await until(() => state.error?.code == 'LATCH_POPUP_BLOCKED', 'LATCH_POPUP_BLOCKED');
    expect(navigations).to.deep.equal([]);
  });

  it('asks /me when the popup closes without a message', async () => {
    const bff = handoffBff();
    await start(bff);
    frame.remove();
    await settle('signed-out');
    expect(bff.calls.map((c) => c.path)).to.deep.equal(['/me', '/me']);
  });
});

describe('the hand-off in the built files', () => {
  builtApart('handoff', ['SHA-256', 'handoff=', '/handoff"'], ['LATCH_INSECURE_CONTEXT']);
});

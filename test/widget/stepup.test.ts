/// <reference types="mocha" />
// Step-up (issue 17): latch.stepUp({ acr, maxAge }), and latch.fetch() answered 401
// LATCH_STEP_UP_REQUIRED, in a popup (widget/chunks/stepup.ts): latch-step-up says how it went, and
// latch.fetch() calls again once after `done`. /me's provider, acr and authTime on the session.
import { expect } from '@esm-bundle/chai';
import type { LatchPopupMessage } from '../../bff/contract.ts';
import { io, state } from '../../widget/client/session.ts';
import { latch } from '../../widget/index.ts';
import { load } from '../../widget/lazy.ts';
import { ADA, BFF, BFF_ORIGIN, fakeBff, navigations, record, reset, until, type FakeBff } from './fake-bff.ts';
import { builtApart } from './built.ts';

/** A real WindowProxy to stand in for the popup (MessageEvent.source must be one). */
function fakePopup(): { win: Window; close(): void } {
  const frame = document.createElement('iframe');
  document.documentElement.append(frame);
  return { win: frame.contentWindow!, close: () => frame.remove() };
}

const post = (data: LatchPopupMessage, source: Window) =>
  window.dispatchEvent(new MessageEvent('message', { data, origin: BFF_ORIGIN, source }));

describe('step-up', () => {
  const realOpen = io.open;
  let opened: string[];
  let popup: ReturnType<typeof fakePopup>;

  beforeEach(() => {
    reset();
    opened = [];
    popup = fakePopup();
    io.open = (url) => (opened.push(url), popup.win);
  });
  afterEach(() => {
    io.open = realOpen;
    popup.close();
  });
  after(reset);

  /** Signed in with `acr` (silver), from `/me`. */
  async function signedIn(): Promise<FakeBff> {
    const bff = fakeBff({ ...ADA });
    bff.provider = 'scalegrowth';
    bff.acr = 'silver';
    bff.authTime = 1_700_000_000;
    latch.configure({ bff: BFF });
    await latch.me();
    return bff;
  }

  /** Waits for the popup, then answers it as the BFF's callback page does (ok: a new session with `acr`). */
  async function answer(bff: FakeBff, msg: Omit<LatchPopupMessage, 'type'>, acr = 'gold'): Promise<URL> {
    await until(() => opened.length, 'the popup');
    await load('stepup');
    if (msg.ok) bff.acr = acr;
    post({ type: 'latch:login', ...msg }, popup.win);
    return new URL(opened.at(-1)!);
  }

  it("/me's provider, acr and authTime are on the session (null once signed out)", async () => {
    await signedIn();
    expect(state).to.include({ provider: 'scalegrowth', acr: 'silver', authTime: 1_700_000_000, reason: null });
    await latch.logout();
    expect(state).to.include({ provider: null, acr: null, authTime: null });
  });

  it('latch.stepUp() signs in again in a popup at the session\'s provider with acr_values and max_age, and resolves done', async () => {
    const bff = await signedIn();
    const seen = record('latch-step-up', 'latch-login');
    const done = latch.stepUp({ acr: ['gold', 'platinum'], maxAge: 300 });
    const url = await answer(bff, { ok: true });
    expect(await done).to.equal('done');
    expect(url.origin + url.pathname).to.equal(`${BFF}/login`);
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({
      returnTo: location.href,
      acr_values: 'gold platinum',
      max_age: '300',
      provider: 'scalegrowth',
      mode: 'popup',
    });
    expect(state.acr).to.equal('gold');
    expect(state.status).to.equal('signed-in');
    // The same user: a step-up, not a sign-in.
    expect(seen.map((e) => [e.type, e.detail.outcome])).to.deep.equal([
      ['latch-step-up', 'started'],
      ['latch-step-up', 'done'],
    ]);
    expect(seen[0]!.detail).to.deep.equal({ acr: ['gold', 'platinum'], maxAge: 300, outcome: 'started' });
    expect(navigations).to.deep.equal([]);
  });

  it('a refusal is failed, a closed popup cancelled; the session stays as it was', async () => {
    const bff = await signedIn();
    const seen = record('latch-step-up');
    const failed = latch.stepUp({ acr: 'gold' });
    await answer(bff, { ok: false, error: 'LATCH_STEP_UP_FAILED' });
    expect(await failed).to.equal('failed');
    const cancelled = latch.stepUp({ maxAge: 0 });
    await until(() => opened.length == 2, 'the second popup');
    popup.close();
    expect(await cancelled).to.equal('cancelled');
    expect(seen.map((e) => e.detail.outcome)).to.deep.equal(['started', 'failed', 'started', 'cancelled']);
    expect(seen[2]!.detail).to.deep.equal({ maxAge: 0, outcome: 'started' });
    expect(state).to.include({ status: 'signed-in', acr: 'silver', error: null });
  });

  it('where the page opens no popup, a redirect to /login with the same parameters, back to this page', async () => {
    await signedIn();
    io.open = (url) => (opened.push(url), null);
    const seen = record('latch-step-up');
    void latch.stepUp({ acr: 'gold' });
    await until(() => navigations.length, 'the redirect');
    const q = new URL(navigations[0]!).searchParams;
    expect(q.get('acr_values')).to.equal('gold');
    expect(q.get('returnTo')).to.equal(location.href);
    expect(q.has('mode')).to.equal(false);
    expect(seen.map((e) => e.detail.outcome)).to.deep.equal(['started']);
  });

  it('latch.fetch() answered LATCH_STEP_UP_REQUIRED steps up as its body says, then calls again once', async () => {
    const bff = await signedIn();
    bff.need = { acr: ['gold'], maxAge: 600 };
    const res = latch.fetch('/orders', { method: 'POST', body: '{"sku":"A-1"}', headers: { 'content-type': 'application/json' } });
    const url = await answer(bff, { ok: true });
    expect(url.searchParams.get('acr_values')).to.equal('gold');
    expect(url.searchParams.get('max_age')).to.equal('600');
    const answered = await res;
    expect(answered.status).to.equal(200);
    expect(await answered.json()).to.deep.equal({ path: '/api/orders' });
    const calls = bff.callsTo('/api/orders');
    expect(calls).to.have.length(2);
    expect(calls.map((c) => [c.method, c.body, c.headers.get('latch-csrf')])).to.deep.equal([
      ['POST', '{"sku":"A-1"}', '1'],
      ['POST', '{"sku":"A-1"}', '1'],
    ]);
  });

  it('latch.fetch(): a cancelled step-up gives the 401 back; a second LATCH_STEP_UP_REQUIRED is not stepped up again', async () => {
    const bff = await signedIn();
    bff.need = { acr: ['gold'] };
    const cancelled = latch.fetch('/orders');
    await until(() => opened.length, 'the popup');
    popup.close();
    const first = await cancelled;
    expect(first.status).to.equal(401);
    expect(((await first.json()) as { error: { code: string } }).error.code).to.equal('LATCH_STEP_UP_REQUIRED');
    expect(bff.callsTo('/api/orders')).to.have.length(1);

    // The provider signs in again but not as asked (the BFF keeps refusing): one step-up, one retry, then the 401.
    popup = fakePopup();
    opened = [];
    const again = latch.fetch('/orders');
    await answer(bff, { ok: true }, 'silver');
    expect((await again).status).to.equal(401);
    expect(bff.callsTo('/api/orders')).to.have.length(3);
    expect(opened).to.have.length(1);
  });

  it('latch.fetch() with a stream body steps up but does not send it again', async () => {
    const bff = await signedIn();
    bff.need = { acr: ['gold'] };
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('x')), c.close()) });
    const res = latch.fetch('/upload', { method: 'POST', body, duplex: 'half' } as RequestInit);
    await answer(bff, { ok: true });
    expect((await res).status).to.equal(401);
    expect(bff.callsTo('/api/upload')).to.have.length(1);
    expect(state.acr).to.equal('gold');
  });

  describe('in the build: dist/latch-stepup.js', () => builtApart('stepup', ['acr_values', 'max_age', 'LATCH_STEP_UP_REQUIRED']));
});

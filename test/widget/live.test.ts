/// <reference types="mocha" />
// Live sessions (issue 19): the session's /events stream (widget/chunks/events.ts), one per page
// for all its tabs (a leader, through a Web Lock; the others through the BroadcastChannel of
// widget/chunks/start.ts), the signed-out state that says why, in every language, the fallback
// where the BFF has no stream, and the warning ahead of the session's end with "Stay signed in"
// (widget/chunks/expiry.ts).
import { expect } from '@esm-bundle/chai';
import { emulateMedia } from '@web/test-runner-commands';
import type { LatchPopupMessage, SessionEndReason } from '../../bff/contract.ts';
import { io, state } from '../../widget/client/session.ts';
import { latch, type Latch } from '../../widget/index.ts';
import { load } from '../../widget/lazy.ts';
import { $, ADA, BFF, BFF_ORIGIN, endSession, fakeBff, focused, mount, openStream, record, rendered, reset, settle, shown, until, type FakeBff } from './fake-bff.ts';
import { loadAxe, violations } from './axe.ts';
import { builtApart } from './built.ts';

const REASONS: Record<string, Record<SessionEndReason, string>> = {};

/** Signed in, with a <latch-login>, and the /events stream open. */
async function live(bff = fakeBff({ ...ADA })): Promise<{ bff: FakeBff; el: HTMLElement }> {
  const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
  await settle('signed-in');
  await until(() => openStream(bff), 'the /events stream');
  return { bff, el };
}

/** Another tab of the microsite: a same-origin frame with its own widget, served by this page's fake BFF. */
interface Tab {
  frame: HTMLIFrameElement;
  latch: Latch;
  close(): void;
}

async function openTab(options: { noBroadcastChannel?: boolean } = {}): Promise<Tab> {
  const frame = document.createElement('iframe');
  frame.srcdoc = `<!doctype html><html lang="en"><body>
    ${options.noBroadcastChannel ? '<script>delete window.BroadcastChannel</script>' : ''}
    <latch-login bff="${BFF}"></latch-login>
    <script type="module" src="/test/widget/tab.ts"></script></body></html>`;
  document.documentElement.append(frame);
  const win = () => frame.contentWindow as (Window & { tab?: { latch: Latch } }) | null;
  await until(() => win()?.tab, 'the other tab', 5000);
  return { frame, latch: win()!.tab!.latch, close: () => frame.remove() };
}

describe('live sessions', () => {
  before(async () => {
    for (const lang of ['en', 'de', 'fr', 'es']) {
      const table =
        lang == 'en'
          ? (await import('../../widget/i18n/en.ts')).ended
          : ((await import(`../../widget/i18n/${lang}.ts`)) as { default: Record<string, string> }).default;
      REASONS[lang] = Object.fromEntries(
        (['logout', 'backchannel', 'revoked', 'expired', 'everywhere'] as const).map((r) => [r, table[`ended_${r}`]!]),
      ) as Record<SessionEndReason, string>;
    }
  });
  beforeEach(reset);
  after(reset);

  describe('the /events stream', () => {
    it('opens one stream, credentialed, once signed in; none while signed out', async () => {
      const bff = fakeBff();
      await mount(`<latch-login bff="${BFF}"></latch-login>`);
      await settle('signed-out');
      await new Promise((r) => setTimeout(r, 100));
      expect(bff.callsTo('/events')).to.have.length(0);
      bff.user = { ...ADA };
      await latch.refresh();
      await until(() => openStream(bff), 'the stream');
      const [call] = bff.callsTo('/events');
      expect(call!.credentials).to.equal('include');
      expect(call!.headers.get('accept')).to.equal('text/event-stream');
      await new Promise((r) => setTimeout(r, 100));
      expect(bff.callsTo('/events')).to.have.length(1);
    });

    for (const reason of ['backchannel', 'revoked', 'everywhere', 'logout', 'expired'] as const)
      it(`session-ended (${reason}): signed out at once, saying why; latch-session-change carries the reason`, async () => {
        const { bff, el } = await live();
        const seen = record('latch-logout', 'latch-session-change');
        const at = Date.now();
        endSession(bff, reason);
        await settle('signed-out');
        expect(Date.now() - at).to.be.below(2000);
        await rendered();
        expect(state.reason).to.equal(reason);
        expect((await shown(el, '[part=reason]')).textContent).to.equal(REASONS['en']![reason]);
        expect($(el, '[role=status]')!.textContent).to.equal(REASONS['en']![reason]);
        expect($(el, 'button')!.textContent!.trim()).to.equal('Sign in');
        const change = seen.find((e) => e.type == 'latch-session-change')!;
        expect(change.detail).to.include({ status: 'signed-out', reason, user: null });
        expect(seen.filter((e) => e.type == 'latch-logout')).to.have.length(1);
        // No /me needed: the stream said it. And no stream any more.
        expect(bff.callsTo('/me')).to.have.length(1);
        await new Promise((r) => setTimeout(r, 100));
        expect(openStream(bff)).to.equal(undefined);
      });

    it('says why in every shipped language', async () => {
      const { bff, el } = await live();
      endSession(bff, 'backchannel');
      await settle('signed-out');
      for (const lang of ['de', 'fr', 'es', 'en']) {
        el.lang = lang;
        await until(() => $(el, '[part=reason]')?.textContent == REASONS[lang]!['backchannel'], `${lang} words`);
        expect(REASONS[lang]!['backchannel']).to.be.a('string').and.not.equal(lang == 'en' ? '' : REASONS['en']!['backchannel']);
      }
    });

    it('the reason stays while signed out, and goes with the next sign-in', async () => {
      const { bff } = await live();
      endSession(bff, 'revoked');
      await settle('signed-out');
      await latch.refresh();
      expect(state.reason).to.equal('revoked');
      bff.user = { ...ADA };
      await latch.refresh();
      expect(state).to.include({ status: 'signed-in', reason: null });
    });

    it('session-updated: the refreshed claims, with no latch-login', async () => {
      const { bff, el } = await live();
      const seen = record('latch-login', 'latch-session-change');
      const expiresAt = Date.now() + 7_200_000;
      openStream(bff)!.send('session-updated', { user: { ...ADA, name: 'Ada King' }, expiresAt });
      await until(() => state.user?.name == 'Ada King', 'the new claims');
      await rendered();
      expect($(el, '[part=name]')!.textContent).to.equal('Ada King');
      expect(state.expiresAt).to.equal(expiresAt);
      expect(state.provider).to.equal('default');
      expect(seen.map((e) => e.type)).to.deep.equal(['latch-session-change']);
    });

    it('an expired session (/me 401 LATCH_SESSION_EXPIRED) says so too', async () => {
      const bff = fakeBff();
      bff.signedOutCode = 'LATCH_SESSION_EXPIRED';
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      await settle('signed-out');
      expect(state.reason).to.equal('expired');
      expect((await shown(el, '[part=reason]')).textContent).to.equal(REASONS['en']!['expired']);
    });

    it('survives a heartbeat, comments and events split across chunks, and ignores events it does not know', async () => {
      const { bff } = await live();
      const stream = openStream(bff)!;
      stream.write(': ping\n\n');
      stream.write('event: something-else\ndata: {}\n\n');
      stream.write('event: session-en');
      stream.write('ded\ndata: {"reas');
      bff.user = null;
      stream.write('on":"everywhere"}\n\n');
      await settle('signed-out');
      expect(state.reason).to.equal('everywhere');
    });

    it('a stream the server ends is opened again after its retry', async () => {
      const { bff } = await live();
      openStream(bff)!.write('retry: 50\n\n');
      openStream(bff)!.close();
      await until(() => bff.callsTo('/events').length == 2 && openStream(bff), 'the second stream');
      endSession(bff, 'logout');
      await settle('signed-out');
    });

    it('/events answered 401 (no session left): /me says how things stand', async () => {
      const { bff } = await live();
      openStream(bff)!.write('retry: 20\n\n');
      bff.user = null;
      openStream(bff)!.close();
      await settle('signed-out');
      expect(bff.callsTo('/me')).to.have.length(2);
    });

    for (const status of [404, 501, 429])
      it(`without a stream (${status}: Lambda, or too many) the leading tab asks /me every eventsFallbackInterval`, async () => {
        const bff = fakeBff({ ...ADA });
        bff.events = status;
        latch.configure({ eventsFallbackInterval: 100 });
        await mount(`<latch-login bff="${BFF}"></latch-login>`);
        await settle('signed-in');
        await until(() => bff.callsTo('/me').length >= 3, 'two re-checks');
        expect(bff.callsTo('/events')).to.have.length(1);
        bff.user = null;
        await settle('signed-out');
        const checks = bff.callsTo('/me').length;
        await new Promise((r) => setTimeout(r, 300));
        expect(bff.callsTo('/me')).to.have.length(checks, 'no polling once signed out');
      });
  });

  describe('one stream for all the tabs', () => {
    let tabs: Tab[] = [];
    afterEach(() => {
      tabs.forEach((t) => t.close());
      tabs = [];
    });

    it('two tabs share one /events connection; a back-channel logout on it signs both out within 2 s, saying why', async () => {
      const bff = fakeBff({ ...ADA });
      const other = await openTab();
      tabs.push(other);
      await until(() => other.latch.session.status == 'signed-in', 'the other tab signed in');
      await until(() => openStream(bff), 'the first tab\'s stream');
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      await settle('signed-in');
      await new Promise((r) => setTimeout(r, 300));
      expect(bff.callsTo('/events')).to.have.length(1);
      const at = Date.now();
      endSession(bff, 'backchannel');
      await until(() => state.status == 'signed-out' && other.latch.session.status == 'signed-out', 'both tabs signed out', 2000);
      expect(Date.now() - at).to.be.below(2000);
      expect(state.reason).to.equal('backchannel');
      expect(other.latch.session.reason).to.equal('backchannel');
      expect((await shown(el, '[part=reason]')).textContent).to.equal(REASONS['en']!['backchannel']);
    });

    it('when the leading tab closes, another takes over the connection', async () => {
      const bff = fakeBff({ ...ADA });
      const leader = await openTab();
      tabs.push(leader);
      await until(() => openStream(bff), 'the leader\'s stream');
      await mount(`<latch-login bff="${BFF}"></latch-login>`);
      await settle('signed-in');
      await new Promise((r) => setTimeout(r, 200));
      expect(bff.callsTo('/events')).to.have.length(1);
      leader.close();
      await until(() => bff.callsTo('/events').length == 2, 'this tab to take over', 3000);
      // The first stream's reader went with its tab; the new one is this tab's.
      bff.streams[0]!.close();
      endSession(bff, 'revoked');
      await settle('signed-out');
      expect(state.reason).to.equal('revoked');
    });

    it('without BroadcastChannel, each tab has its own connection', async () => {
      const bff = fakeBff({ ...ADA });
      const real = window.BroadcastChannel;
      delete (window as { BroadcastChannel?: unknown }).BroadcastChannel;
      try {
        const other = await openTab({ noBroadcastChannel: true });
        tabs.push(other);
        await mount(`<latch-login bff="${BFF}"></latch-login>`);
        await settle('signed-in');
        await until(() => bff.callsTo('/events').length == 2, 'a stream for each tab');
      } finally {
        window.BroadcastChannel = real;
      }
    });
  });

  describe('the warning ahead of the end, and "Stay signed in"', () => {
    const realOpen = io.open;
    afterEach(() => (io.open = realOpen));

    /** Signed in until 1.5 s from now, warned 1 s ahead. */
    async function ending(): Promise<{ bff: FakeBff; el: HTMLElement }> {
      const bff = fakeBff({ ...ADA });
      bff.expiresAt = Date.now() + 1500;
      latch.configure({ expiringBefore: 1000, timeout: 500 });
      const el = await mount(`<main><latch-login bff="${BFF}"></latch-login></main>`);
      return { bff, el: el.querySelector('latch-login')! };
    }

    it('latch-expiring, then a warning (role="alert") with "Stay signed in", which extends the session through /me', async () => {
      const { bff, el } = await ending();
      const seen = record('latch-expiring');
      const warning = await shown(el, '[part=warning]', 3000);
      expect(seen).to.have.length(1);
      expect(seen[0]!.cancelable).to.equal(true);
      expect(warning.getAttribute('role')).to.equal('alert');
      expect(warning.textContent).to.equal('Your session is about to end.');
      const stay = [...el.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() == 'Stay signed in')!;
      stay.focus();
      bff.expiresAt = Date.now() + 3_600_000;
      stay.click();
      await until(() => !$(el, '[part=warning]'), 'the warning to go');
      expect(state.expiresAt).to.equal(bff.expiresAt);
      // The focused button went with the warning: focus is on the account button.
      await until(() => focused()?.getAttribute('aria-haspopup') == 'menu', 'focus on the account button');
    });

    it('a page that calls preventDefault() shows its own warning: none from the element', async () => {
      const handler = (e: Event) => e.preventDefault();
      document.addEventListener('latch-expiring', handler);
      try {
        const { el } = await ending();
        const seen = record('latch-expiring');
        await until(() => seen.length, 'latch-expiring', 3000);
        await new Promise((r) => setTimeout(r, 100));
        expect($(el, '[part=warning]')).to.equal(null);
      } finally {
        document.removeEventListener('latch-expiring', handler);
      }
    });

    it('"Stay signed in" signs in again silently in a frame when /me cannot extend it, then in a popup', async () => {
      const { bff, el } = await ending();
      await shown(el, '[part=warning]', 3000);
      const opened: string[] = [];
      const popup = document.createElement('iframe');
      document.documentElement.append(popup);
      io.open = (url) => (opened.push(url), popup.contentWindow);
      try {
        [...el.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() == 'Stay signed in')!.click();
        // The silent frame: the provider wants an interaction.
        await until(() => document.querySelector('iframe[src*="mode=silent"]'), 'the silent frame');
        const frame = document.querySelector<HTMLIFrameElement>('iframe[src*="mode=silent"]')!;
        const q = new URL(frame.src).searchParams;
        expect(q.get('prompt')).to.equal('none');
        expect(q.get('provider')).to.equal('default');
        await load('silent');
        window.dispatchEvent(
          new MessageEvent('message', {
            data: { type: 'latch:login', ok: false, error: 'interaction_required' } satisfies LatchPopupMessage,
            origin: BFF_ORIGIN,
            source: frame.contentWindow,
          }),
        );
        // Then the popup, which signs in: a new session, with a later end.
        await until(() => opened.length, 'the popup');
        bff.expiresAt = Date.now() + 3_600_000;
        window.dispatchEvent(
          new MessageEvent('message', { data: { type: 'latch:login', ok: true } satisfies LatchPopupMessage, origin: BFF_ORIGIN, source: popup.contentWindow }),
        );
        await until(() => !$(el, '[part=warning]'), 'the warning to go');
        expect(new URL(opened[0]!).searchParams.get('mode')).to.equal('popup');
        expect(document.querySelectorAll('iframe[src*="mode=silent"]').length).to.equal(0);
        expect(state.status).to.equal('signed-in');
      } finally {
        popup.remove();
      }
    });

    it('says so when nothing could extend it', async () => {
      const { el } = await ending();
      await shown(el, '[part=warning]', 3000);
      io.open = () => null;
      [...el.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() == 'Stay signed in')!.click();
      // The silent frame gets no answer (the calls' timeout, 500 ms here); the popup is blocked.
      await until(() => $(el, '[part=warning]')?.textContent?.startsWith('You could not be kept signed in'), 'the failure', 3000);
    });
  });

  describe('axe', () => {
    before(loadAxe);
    afterEach(() => emulateMedia({ colorScheme: 'light' }));

    for (const scheme of ['light', 'dark'] as const)
      it(`finds no violations signed out with why, and with the warning ahead of the end, ${scheme}`, async () => {
        await emulateMedia({ colorScheme: scheme });
        document.title = 'Latch widget';
        const bff = fakeBff({ ...ADA });
        const el = (await mount(`<main><latch-login bff="${BFF}"></latch-login></main>`)).querySelector('latch-login')!;
        await settle('signed-in');
        await until(() => openStream(bff), 'the /events stream');
        endSession(bff, 'revoked');
        await settle('signed-out');
        await shown(el, '[part=reason]');
        expect(await violations()).to.deep.equal([]);
        reset();
        const ending = fakeBff({ ...ADA });
        ending.expiresAt = Date.now() + 1500;
        latch.configure({ expiringBefore: 1000 });
        const warned = await mount(`<main><latch-login bff="${BFF}"></latch-login></main>`);
        await shown(warned.querySelector('latch-login')!, '[part=warning]', 3000);
        expect(await violations()).to.deep.equal([]);
      });
  });

  describe('in the build: dist/latch-events.js, latch-expiry.js, latch-start.js', () => {
    builtApart('events', ['text/event-stream', 'session-ended', 'latch-expiring', 'latch:events:']);
    builtApart('expiry', ['Stay signed in']);
    builtApart('start', ['/providers', 'You were signed out on all devices.']);
  });
});

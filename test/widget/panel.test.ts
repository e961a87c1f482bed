/// <reference types="mocha" />
// The session panel (issue 19): the account menu's "Your sessions" (widget/chunks/menu.ts) lists
// GET /sessions, signs out one other session (DELETE /sessions/<id>, with the CSRF header) or all the
// others, keeps the current one, and passes axe in both schemes; Escape closes it with focus back on
// the account button.
import { expect } from '@esm-bundle/chai';
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import type { LatchSessionInfo } from '../../bff/contract.ts';
import { state } from '../../widget/client/session.ts';
import { axeSuite, violations } from './axe.ts';
import { $, ADA, BFF, fakeBff, focused, mount, rendered, reset, shown, until, type FakeBff } from './fake-bff.ts';
import { builtApart } from './built.ts';

const now = Date.now();
const SESSIONS: LatchSessionInfo[] = [
  { id: 'pub-1', createdAt: now - 86_400_000, lastSeenAt: now - 5_000, provider: 'default', device: 'Chrome on Linux', current: true },
  { id: 'pub-2', createdAt: now - 3 * 86_400_000, lastSeenAt: now - 2 * 3_600_000, provider: 'default', device: 'Safari on iPhone', current: false },
  { id: 'pub/3', createdAt: now - 7 * 86_400_000, lastSeenAt: now - 3 * 86_400_000, provider: 'google', device: 'Firefox on Windows', current: false },
];

const button = (el: Element, name: string) =>
  [...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part=panel] button')].find(
    (b) => b.textContent!.trim() == name || b.getAttribute('aria-label') == name,
  );

/** Signed in, with the panel open and its sessions listed. */
async function panel(sessions = SESSIONS, lang = 'en'): Promise<{ bff: FakeBff; el: HTMLElement; dialog: HTMLElement }> {
  const bff = fakeBff({ ...ADA });
  bff.sessions = sessions.map((s) => ({ ...s }));
  const el = (await mount(`<main lang="${lang}"><button id="before">before</button><latch-login bff="${BFF}"></latch-login></main>`))
    .querySelector<HTMLElement>('latch-login')!;
  // (Another language's words load first: the placeholder meanwhile.)
  await shown(el, '[part=name]');
  $(el, 'button')!.click();
  await shown(el, '[role=menu]');
  [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role=menuitem]')].at(-1)!.click();
  const dialog = await shown(el, '[part=panel]');
  await until(() => bff.callsTo('/sessions').length && dialog.querySelector('li'), 'the sessions');
  await rendered();
  return { bff, el, dialog };
}

describe('the session panel', () => {
  axeSuite(reset);

  it('"Your sessions" opens a named dialog, focused, listing GET /sessions: this device first, the others with when they were last active', async () => {
    const { bff, el, dialog } = await panel();
    expect(dialog.getAttribute('role')).to.equal('dialog');
    expect(dialog.getAttribute('aria-label')).to.equal('Your sessions');
    expect(focused()).to.equal(dialog);
    const [call] = bff.callsTo('/sessions');
    expect(call!.method).to.equal('GET');
    expect(call!.credentials).to.equal('include');
    const rows = [...dialog.querySelectorAll('li')].map((li) => li.querySelector('span')!.textContent!.trim());
    expect(rows).to.deep.equal([
      'Chrome on LinuxThis device',
      'Safari on iPhoneLast active 2 hours ago',
      'Firefox on WindowsLast active 3 days ago',
    ]);
    // No "Sign out" for this session: the account menu's "Sign out" is that.
    expect(dialog.querySelectorAll('li')[0]!.querySelector('button')).to.equal(null);
    expect(button(el, 'Sign out Safari on iPhone')).to.exist;
    expect(button(el, 'Sign out Firefox on Windows')).to.exist;
  });

  it('"Sign out" on another session ends it (DELETE /sessions/<id> with the CSRF header), says so, and keeps this one', async () => {
    const { bff, el, dialog } = await panel();
    button(el, 'Sign out Firefox on Windows')!.click();
    await until(() => dialog.querySelector('[role=status]')!.textContent == 'Firefox on Windows is signed out.', 'the news');
    const [del] = bff.calls.filter((c) => c.method == 'DELETE');
    expect(del!.url).to.equal(`${BFF}/sessions/pub%2F3`);
    expect(del!.credentials).to.equal('include');
    expect(del!.headers.get('latch-csrf')).to.equal('1');
    expect([...dialog.querySelectorAll('li span')].map((s) => s.textContent!.replace(s.querySelector('small')!.textContent!, '').trim())).to.deep.equal([
      'Chrome on Linux',
      'Safari on iPhone',
    ]);
    expect(bff.sessions.map((s) => s.id)).to.deep.equal(['pub-1', 'pub-2']);
    expect(state.status).to.equal('signed-in');
    // The focused button went with its session: focus stays in the panel.
    expect(dialog.contains(focused())).to.equal(true);
  });

  it('"Sign out all others" ends every other session, none of them this one', async () => {
    const { bff, el, dialog } = await panel();
    button(el, 'Sign out all others')!.click();
    await until(() => dialog.querySelector('[role=status]')!.textContent == 'Every other session is signed out.', 'the news');
    expect(bff.calls.filter((c) => c.method == 'DELETE').map((c) => c.url).sort()).to.deep.equal([
      `${BFF}/sessions/pub%2F3`,
      `${BFF}/sessions/pub-2`,
    ]);
    expect(bff.sessions.map((s) => s.id)).to.deep.equal(['pub-1']);
    await rendered();
    expect(dialog.querySelector('p')!.textContent).to.equal('You are signed in on no other device.');
    expect(button(el, 'Sign out all others')).to.equal(undefined);
    expect(bff.callsTo('/logout')).to.have.length(0);
    expect(state.status).to.equal('signed-in');
  });

  it('a sign-out that fails says so, and the session stays listed', async () => {
    const { bff, el, dialog } = await panel();
    const real = window.fetch;
    window.fetch = (input, init) =>
      init?.method == 'DELETE' ? Promise.reject(new TypeError('Failed to fetch')) : real(input, init);
    button(el, 'Sign out Safari on iPhone')!.click();
    await until(() => dialog.querySelector('[role=status]')!.textContent == 'The sign-in service cannot be reached.', 'the failure');
    expect(dialog.querySelectorAll('li')).to.have.length(3);
    expect(bff.sessions).to.have.length(3);
  });

  it('a BFF without /sessions (404) says the sessions cannot be listed here', async () => {
    const bff = fakeBff({ ...ADA });
    const real = window.fetch;
    window.fetch = (input, init) =>
      String(input) == `${BFF}/sessions`
        ? Promise.resolve(new Response('{"error":{"code":"LATCH_NOT_FOUND","message":"no"}}', { status: 404 }))
        : real(input, init);
    const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    $(el, 'button')!.click();
    await shown(el, '[role=menu]');
    [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role=menuitem]')].at(-1)!.click();
    const dialog = await shown(el, '[part=panel]');
    await until(() => dialog.querySelector('[role=status]')!.textContent == 'Your sessions cannot be listed here.', 'the words');
    expect(bff.callsTo('/me')).to.have.length(1);
  });

  it('Escape closes it, with focus back on the account button; so does Close', async () => {
    const { el } = await panel();
    await sendKeys({ press: 'Escape' });
    await rendered();
    expect($(el, '[part=panel]')).to.equal(null);
    expect(focused()!.getAttribute('aria-haspopup')).to.equal('menu');
    expect(focused()!.getAttribute('aria-expanded')).to.equal('false');
    // Opened again, it is the menu first; Close from the panel goes back to the button too.
    $(el, 'button')!.click();
    await shown(el, '[role=menu]');
    [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role=menuitem]')].at(-1)!.click();
    await shown(el, '[part=panel]');
    button(el, 'Close')!.click();
    await rendered();
    expect($(el, '[part=panel]')).to.equal(null);
    expect(focused()!.getAttribute('aria-haspopup')).to.equal('menu');
  });

  it('speaks the element\'s language (de)', async () => {
    const { el, dialog } = await panel(SESSIONS, 'de');
    expect(dialog.getAttribute('aria-label')).to.equal('Ihre Sitzungen');
    expect(dialog.querySelector('li small')!.textContent).to.equal('Dieses Gerät');
    expect(dialog.querySelectorAll('li small')[1]!.textContent).to.equal('Zuletzt aktiv vor 2 Stunden');
    expect(button(el, 'Alle anderen abmelden')).to.exist;
  });

  for (const scheme of ['light', 'dark'] as const)
    it(`axe finds no violations with the panel open, listed and after a sign-out, ${scheme}`, async () => {
      await emulateMedia({ colorScheme: scheme });
      const { el, dialog } = await panel();
      expect(await violations()).to.deep.equal([]);
      button(el, 'Sign out Safari on iPhone')!.click();
      await until(() => dialog.querySelector('[role=status]')!.textContent != '', 'the news');
      expect(await violations()).to.deep.equal([]);
    });

  describe('in the build: dist/latch-menu.js', () => builtApart('menu', ['/sessions/', 'Sign out all others', 'RelativeTimeFormat']));
});

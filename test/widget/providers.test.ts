/// <reference types="mocha" />
// Several providers (issue 17): `provider` on <latch-login>, latch.login({ provider }), and with
// several providers (GET /providers) and no attribute, "Sign in" as the button of their menu
// (widget/chunks/chooser.ts, loaded only then).
import { expect } from '@esm-bundle/chai';
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import { state } from '../../widget/client/session.ts';
import { latch } from '../../widget/index.ts';
import { axeSuite, violations } from './axe.ts';
import { $, BFF, fakeBff, focused, mount, navigations, rendered, reset, settle, shown, until, type FakeBff } from './fake-bff.ts';
import { builtApart } from './built.ts';

const ICON = 'data:image/svg+xml,' + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#4285f4"/></svg>');
const TWO = [
  { name: 'scalegrowth', label: 'ScaleGrowth' },
  { name: 'google', label: 'Google', icon: ICON },
];

/** Imports of the chooser's module (here its source; in the build, latch-chooser.js). */
const chooserLoads = () =>
  performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.endsWith('/widget/chunks/chooser.ts'));

/** A signed-out page whose BFF offers `providers`, once the session has asked for them. */
async function page(providers: FakeBff['providers'], attrs = ''): Promise<{ bff: FakeBff; el: HTMLElement }> {
  const bff = fakeBff();
  bff.providers = providers;
  await mount(`<main><button id="before">before</button><latch-login bff="${BFF}" ${attrs}></latch-login></main>`);
  await until(() => bff.callsTo('/providers').length, '/providers');
  await rendered();
  return { bff, el: document.querySelector<HTMLElement>('latch-login')! };
}

const items = (el: Element) => [...el.shadowRoot!.querySelectorAll('[role=menuitem]')].map((i) => i.textContent!.trim());

describe('several providers', () => {
  axeSuite(reset);

  // First in this file: the chooser's module, once loaded, stays for the page's life.
  it('with one provider, "Sign in" signs in with the default at once: no menu, and the chooser is never loaded', async () => {
    const { bff, el } = await page([{ name: 'default', label: 'Example' }]);
    const button = $(el, 'button')!;
    expect(button.hasAttribute('aria-haspopup')).to.equal(false);
    expect(button.hasAttribute('aria-expanded')).to.equal(false);
    button.click();
    await until(() => navigations.length, 'the sign-in');
    expect(new URL(navigations[0]!).searchParams.has('provider')).to.equal(false);
    expect(bff.callsTo('/providers')).to.have.length(1);
    expect(chooserLoads()).to.have.length(0);
  });

  it('without /providers (a BFF of before issue 17: 404), signs in with the default', async () => {
    const { el } = await page(404);
    $(el, 'button')!.click();
    await until(() => navigations.length, 'the sign-in');
    expect(new URL(navigations[0]!).searchParams.has('provider')).to.equal(false);
    expect(chooserLoads()).to.have.length(0);
  });

  it('provider="google" signs in with it, without a menu, whatever /providers lists', async () => {
    const { el } = await page(TWO, 'provider="google"');
    expect($(el, 'button')!.hasAttribute('aria-haspopup')).to.equal(false);
    $(el, 'button')!.click();
    await until(() => navigations.length, 'the sign-in');
    const url = new URL(navigations[0]!);
    expect(url.origin + url.pathname).to.equal(`${BFF}/login`);
    expect(url.searchParams.get('provider')).to.equal('google');
    expect($(el, '[role=menu]')).to.equal(null);
  });

  it('latch.login({ provider }) signs in with it', async () => {
    await page(TWO);
    await latch.login({ provider: 'scalegrowth' });
    expect(new URL(navigations[0]!).searchParams.get('provider')).to.equal('scalegrowth');
  });

  it('with several, "Sign in" is a menu button: its menu lists them in the BFF\'s order, with labels and icons, and focus goes to the first', async () => {
    const { el } = await page(TWO);
    const button = $(el, 'button')!;
    expect(button.getAttribute('aria-haspopup')).to.equal('menu');
    expect(button.getAttribute('aria-expanded')).to.equal('false');
    button.click();
    const menu = await shown(el, '[role=menu]');
    expect(chooserLoads()).to.have.length(1);
    expect(button.getAttribute('aria-expanded')).to.equal('true');
    expect(menu.getAttribute('aria-label')).to.equal('Choose how to sign in');
    expect(items(el)).to.deep.equal(['ScaleGrowth', 'Google']);
    const icons = menu.querySelectorAll<HTMLImageElement>('img[part=icon]');
    expect(icons).to.have.length(1);
    expect(icons[0]!.src).to.equal(ICON);
    expect(icons[0]!.alt).to.equal('');
    await until(() => focused()?.textContent?.trim() == 'ScaleGrowth', 'focus on the first provider');
    expect(navigations).to.deep.equal([]);
  });

  it('choosing one signs in with it, with the element\'s other attributes', async () => {
    const { el } = await page(TWO, 'login-hint="ada@example.com"');
    $(el, 'button')!.click();
    await shown(el, '[role=menuitem]');
    $<HTMLElement>(el, '[role=menu] [role=menuitem]:nth-child(2)')!.click();
    await until(() => navigations.length, 'the sign-in');
    const q = new URL(navigations[0]!).searchParams;
    expect(q.get('provider')).to.equal('google');
    expect(q.get('login_hint')).to.equal('ada@example.com');
    expect(state.status).to.equal('signing-in');
    await rendered();
    expect($(el, '[role=menu]')).to.equal(null);
  });

  it('the page\'s labels and icons (latch.configure({ providers })) win over the BFF\'s; an icon that is not https or data:image is left out', async () => {
    latch.configure({
      providers: {
        scalegrowth: { label: 'Sign in with ScaleGrowth', icon: 'https://cdn.example.com/sg.svg' },
        google: { icon: 'javascript:alert(1)' },
      },
    });
    const { el } = await page(TWO);
    $(el, 'button')!.click();
    await shown(el, '[role=menuitem]');
    expect(items(el)).to.deep.equal(['Sign in with ScaleGrowth', 'Google']);
    const icons = [...el.shadowRoot!.querySelectorAll<HTMLImageElement>('img[part=icon]')].map((i) => i.getAttribute('src'));
    expect(icons).to.deep.equal(['https://cdn.example.com/sg.svg']);
  });

  it('keyboard alone: Enter opens, arrows move, Enter chooses; Escape closes with focus back on "Sign in"', async () => {
    const { el } = await page(TWO);
    document.getElementById('before')!.focus();
    await sendKeys({ press: 'Tab' });
    const button = focused()!;
    expect(button.textContent!.trim()).to.equal('Sign in');
    await sendKeys({ press: 'Enter' });
    await until(() => focused()?.getAttribute('role') == 'menuitem', 'focus in the menu');
    await sendKeys({ press: 'ArrowDown' });
    expect(focused()!.textContent!.trim()).to.equal('Google');
    await sendKeys({ press: 'ArrowDown' });
    expect(focused()!.textContent!.trim()).to.equal('ScaleGrowth');
    await sendKeys({ press: 'Escape' });
    await rendered();
    expect($(el, '[role=menu]')).to.equal(null);
    expect(focused()).to.equal(button);
    expect(button.getAttribute('aria-expanded')).to.equal('false');
    await sendKeys({ press: 'Enter' });
    await until(() => focused()?.getAttribute('role') == 'menuitem', 'focus in the menu');
    await sendKeys({ press: 'End' });
    await sendKeys({ press: 'Enter' });
    await until(() => navigations.length, 'the sign-in');
    expect(new URL(navigations[0]!).searchParams.get('provider')).to.equal('google');
  });

  it('a click before the providers are there waits for them', async () => {
    const bff = fakeBff();
    bff.providers = TWO;
    let answer!: () => void;
    const held = new Promise<void>((r) => (answer = r));
    let asked = false;
    const real = window.fetch;
    window.fetch = async (input, init) => {
      if (String(input).endsWith('/providers')) {
        asked = true;
        await held;
      }
      return real(input, init);
    };
    const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    await settle('signed-out');
    await until(() => asked, 'the providers asked');
    $(el, 'button')!.click();
    await new Promise((r) => setTimeout(r, 50));
    expect(navigations).to.deep.equal([]);
    answer();
    await shown(el, '[role=menu]');
    expect(navigations).to.deep.equal([]);
  });

  for (const scheme of ['light', 'dark'] as const)
    it(`axe finds no violations with the menu open, ${scheme}`, async () => {
      await emulateMedia({ colorScheme: scheme });
      const { el } = await page(TWO);
      $(el, 'button')!.click();
      await shown(el, '[role=menu]');
      expect(await violations()).to.deep.equal([]);
    });

  describe('in the build: dist/latch-chooser.js', () => builtApart('chooser', ['Choose how to sign in', 'data:image']));
});

/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import { state } from '../../widget/client/session.ts';
import { axeSuite, violations } from './axe.ts';
import { $, ADA, BFF, fakeBff, focused, mount, navigations, rendered, reset, settle, shown, until } from './fake-bff.ts';

const PAGE = (attrs = '') => `
  <main>
    <h1>Latch</h1>
    <button id="before">before</button>
    <latch-login bff="${BFF}" ${attrs}></latch-login>
    <latch-gate><p>members</p><p slot="anonymous">please sign in</p></latch-gate>
    <button id="after">after</button>
  </main>`;

describe('accessibility', () => {
  axeSuite(reset);

  describe('axe finds no violations', () => {
    for (const scheme of ['light', 'dark'] as const) {
      describe(`in the ${scheme} scheme`, () => {
        beforeEach(() => emulateMedia({ colorScheme: scheme }));

        it('while loading', async () => {
          fakeBff().hold = new Promise(() => {});
          document.body.innerHTML = PAGE();
          await document.querySelector('latch-login')!.updateComplete;
          expect(state.status).to.equal('loading');
          expect(await violations()).to.deep.equal([]);
        });

        it('signed out', async () => {
          fakeBff();
          await mount(PAGE());
          expect(await violations()).to.deep.equal([]);
        });

        it('signing in', async () => {
          fakeBff();
          const el = (await mount(PAGE())).querySelector('latch-login')!;
          $(el, 'button')!.click();
          await rendered();
          expect(state.status).to.equal('signing-in');
          expect(await violations()).to.deep.equal([]);
        });

        it('signed in, menu closed and open, with and without a picture', async () => {
          fakeBff({ ...ADA });
          const el = (await mount(PAGE())).querySelector('latch-login')!;
          expect(await violations()).to.deep.equal([]);
          $(el, 'button')!.click();
          await shown(el, '[role=menu]');
          expect(await violations()).to.deep.equal([]);
          reset();
          fakeBff({ ...ADA, picture: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' });
          await mount(PAGE());
          expect(await violations()).to.deep.equal([]);
        });

        it('error', async () => {
          fakeBff().fail = 'network';
          const el = (await mount(PAGE())).querySelector('latch-login')!;
          expect(state.status).to.equal('error');
          await shown(el, '[part=error]');
          expect(await violations()).to.deep.equal([]);
        });
      });
    }
  });

  describe('keyboard alone', () => {
    it('Tab reaches "Sign in", which shows a visible focus ring; Enter signs in', async () => {
      fakeBff();
      await mount(PAGE());
      document.getElementById('before')!.focus();
      await sendKeys({ press: 'Tab' });
      const button = focused() as HTMLElement;
      expect(button.textContent!.trim()).to.equal('Sign in');
      const ring = getComputedStyle(button);
      expect(ring.outlineStyle).to.equal('solid');
      expect(ring.outlineWidth).to.equal('2px');
      await sendKeys({ press: 'Enter' });
      await rendered();
      expect(navigations).to.have.length(1);
    });

    it('Space signs in too', async () => {
      fakeBff();
      await mount(PAGE());
      document.getElementById('before')!.focus();
      await sendKeys({ press: 'Tab' });
      await sendKeys({ press: 'Space' });
      await rendered();
      expect(navigations).to.have.length(1);
    });

    it('Enter opens the menu on "Sign out"; Escape closes it and focus returns to the button', async () => {
      fakeBff({ ...ADA });
      const el = (await mount(PAGE())).querySelector('latch-login')!;
      document.getElementById('before')!.focus();
      await sendKeys({ press: 'Tab' });
      const button = focused()!;
      expect(button.getAttribute('aria-haspopup')).to.equal('menu');
      await sendKeys({ press: 'Enter' });
      await until(() => focused()?.getAttribute('role') == 'menuitem', 'focus in the menu');
      expect(button.getAttribute('aria-expanded')).to.equal('true');
      expect(focused()!.textContent!.trim()).to.equal('Sign out');
      await sendKeys({ press: 'Escape' });
      await rendered();
      expect($(el, '[role=menu]')).to.equal(null);
      expect(button.getAttribute('aria-expanded')).to.equal('false');
      expect(focused()).to.equal(button);
    });

    it('ArrowDown opens the menu; Tab leaves and closes it', async () => {
      fakeBff({ ...ADA });
      const el = (await mount(PAGE())).querySelector('latch-login')!;
      document.getElementById('before')!.focus();
      await sendKeys({ press: 'Tab' });
      await sendKeys({ press: 'ArrowDown' });
      await until(() => focused()?.getAttribute('role') == 'menuitem', 'focus in the menu');
      await sendKeys({ press: 'Tab' });
      await rendered();
      expect(focused()!.id).to.equal('after');
      expect($(el, '[role=menu]')).to.equal(null);
      await sendKeys({ press: 'Shift+Tab' });
      await sendKeys({ press: 'ArrowDown' });
      await until(() => focused()?.getAttribute('role') == 'menuitem', 'focus in the menu');
      await sendKeys({ press: 'Shift+Tab' });
      await rendered();
      expect(focused()!.id).to.equal('before');
      expect($(el, '[role=menu]')).to.equal(null);
    });

    it('ArrowDown and ArrowUp move round the items, Home and End to the first and last', async () => {
      fakeBff({ ...ADA });
      await mount(PAGE());
      document.getElementById('before')!.focus();
      await sendKeys({ press: 'Tab' });
      await sendKeys({ press: 'Enter' });
      await until(() => focused()?.getAttribute('role') == 'menuitem', 'focus in the menu');
      const names: string[] = [];
      for (const key of ['ArrowDown', 'ArrowDown', 'ArrowUp', 'End', 'Home']) {
        await sendKeys({ press: key });
        names.push(focused()!.textContent!.trim());
      }
      expect(names).to.deep.equal(['Your sessions', 'Sign out', 'Your sessions', 'Your sessions', 'Sign out']);
    });

    it('Enter on "Sign out" signs out, and focus lands on "Sign in"', async () => {
      fakeBff({ ...ADA });
      await mount(PAGE());
      document.getElementById('before')!.focus();
      await sendKeys({ press: 'Tab' });
      await sendKeys({ press: 'Enter' });
      await until(() => focused()?.textContent?.trim() == 'Sign out', 'focus on "Sign out"');
      await sendKeys({ press: 'Enter' });
      await settle('signed-out');
      await rendered();
      expect(focused()!.textContent!.trim()).to.equal('Sign in');
    });

    it('Retry is reachable and works from the keyboard', async () => {
      const bff = fakeBff({ ...ADA });
      bff.fail = 'network';
      const el = (await mount(PAGE())).querySelector('latch-login')!;
      await shown(el, '[part=error]');
      document.getElementById('before')!.focus();
      await sendKeys({ press: 'Tab' });
      expect(focused()!.textContent!.trim()).to.equal('Retry');
      bff.fail = null;
      await sendKeys({ press: 'Enter' });
      await settle('signed-in');
      expect(bff.callsTo('/me')).to.have.length(2);
      // Retry went away while loading; focus comes back to the button that replaced it.
      expect(focused()!.getAttribute('aria-haspopup')).to.equal('menu');
    });
  });

  describe('roles and labels', () => {
    it('names the menu, hides the initial from readers, and keeps a polite live region', async () => {
      fakeBff({ ...ADA });
      const el = (await mount(PAGE())).querySelector('latch-login')!;
      expect($(el, '[part=avatar]')!.getAttribute('aria-hidden')).to.equal('true');
      expect($(el, '[role=status]')).to.exist;
      // The menu is drawn only while open (its chunk, latch-menu.js, loads when it first opens).
      expect($(el, '[role=menu]')).to.equal(null);
      $(el, 'button')!.click();
      const menu = await shown(el, '[role=menu]');
      expect(menu.getAttribute('aria-label')).to.equal('Account');
      for (const item of menu.querySelectorAll('button')) {
        expect(item.getAttribute('role')).to.equal('menuitem');
        expect(item.getAttribute('tabindex')).to.equal('-1');
      }
    });
  });
});

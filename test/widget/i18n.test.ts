/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { latch } from '../../widget/index.ts';
import { $, BFF, fakeBff, mount, rendered, reset, settle, until } from './fake-bff.ts';

/** Language chunks the page has loaded so far (source: widget/i18n/xx.ts; bundle: latch-xx.js). */
const chunks = () =>
  performance
    .getEntriesByType('resource')
    .map((e) => /\/(?:i18n\/|latch-)(de|fr|es)\.(?:ts|js)/.exec(e.name)?.[1])
    .filter(Boolean);

const label = (el: Element) => $(el, '[part=button]')?.textContent?.trim();

describe('languages', () => {
  beforeEach(reset);
  after(reset);

  // Runs first: the chunks are cached for the rest of the page's life.
  it('English is built in: no language chunk is loaded for it', async () => {
    fakeBff();
    const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    expect(label(el)).to.equal('Sign in');
    document.documentElement.lang = 'it';
    const it = await mount(`<latch-login></latch-login>`);
    expect(label(it)).to.equal('Sign in');
    expect(chunks()).to.deep.equal([]);
  });

  it("loads only German for lang=\"de\", showing the placeholder until it is there", async () => {
    fakeBff();
    await mount(`<latch-gate bff="${BFF}"></latch-gate>`);
    const el = document.createElement('latch-login');
    el.lang = 'de-CH';
    document.body.append(el);
    await el.updateComplete;
    expect($(el, '[part=skeleton]')).to.exist;
    await until(() => label(el) == 'Anmelden', 'German');
    expect(chunks()).to.deep.equal(['de']);
  });

  it("follows <html lang> when the element has none", async () => {
    fakeBff();
    document.documentElement.lang = 'fr';
    const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    await until(() => label(el) == 'Se connecter', 'French');
    expect(chunks()).to.have.members(['de', 'fr']);
  });

  it('follows the nearest lang of an ancestor, and a change of its own lang', async () => {
    fakeBff();
    const box = await mount(`<div lang="es"><latch-login bff="${BFF}"></latch-login></div>`);
    const el = box.querySelector('latch-login')!;
    await until(() => label(el) == 'Iniciar sesión', 'Spanish');
    el.lang = 'de';
    await until(() => label(el) == 'Anmelden', 'German');
  });

  it('shows errors and announcements in the language', async () => {
    const bff = fakeBff();
    bff.fail = 'network';
    const el = await mount(`<latch-login bff="${BFF}" lang="de"></latch-login>`);
    await until(() => $(el, '[part=error]')?.textContent == 'Der Anmeldedienst ist nicht erreichbar.', 'German error');
    expect(label(el)).to.equal('Erneut versuchen');
  });

  it('lets any string be overridden from JS, per language, error words included', async () => {
    const bff = fakeBff();
    const en = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    const de = await mount(`<latch-login lang="de"></latch-login>`);
    await until(() => label(de) == 'Anmelden', 'German');
    latch.configure({ strings: { en: { signIn: 'Log in' }, de: { signIn: 'Einloggen' } } });
    await rendered();
    expect(label(en)).to.equal('Log in');
    expect(label(de)).to.equal('Einloggen');
    latch.configure({ strings: { en: { LATCH_UNREACHABLE: 'We are down.' } } });
    bff.fail = 'network';
    await latch.refresh();
    await settle('error');
    expect($(en, '[part=error]')!.textContent).to.equal('We are down.');
    expect($(de, '[part=error]')!.textContent).to.equal('Der Anmeldedienst ist nicht erreichbar.');
    latch.configure({ strings: { en: { signIn: 'Sign in', LATCH_UNREACHABLE: 'The sign-in service cannot be reached.' }, de: { signIn: 'Anmelden' } } });
  });

  it('every language has every English string, the bundle\'s and every chunk\'s (the diagnosis\'s, in latch-diagnose.js, included)', async () => {
    const { en: bundled, failure, ended, menu, chooser, expiry } = await import('../../widget/i18n/en.ts');
    const { words } = await import('../../widget/chunks/diagnose.ts');
    const en = { ...bundled, ...failure, ...ended, ...menu, ...chooser, ...expiry, ...words };
    for (const lang of ['de', 'fr', 'es']) {
      const table = (await import(`../../widget/i18n/${lang}.ts`)).default as Record<string, string>;
      expect(Object.keys(table).sort(), lang).to.deep.equal(Object.keys(en).sort());
      for (const [k, v] of Object.entries(table)) expect(v, `${lang}.${k}`).not.to.equal((en as Record<string, string>)[k]);
    }
  });
});

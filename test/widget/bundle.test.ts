/// <reference types="mocha" />
// The built bundles (run after `npm run build:widget`): two copies on one page, the language
// chunks beside them, one shared session. This file imports no widget source on purpose.
import { expect } from '@esm-bundle/chai';
import type { Latch, LatchLoginElement } from '../../widget/index.ts';

const BFF = 'https://auth.latch.test';
const meCalls: string[] = [];
const errors: unknown[] = [];
const warnings: unknown[][] = [];

function classicScript(src: string): Promise<void> {
  const s = document.createElement('script');
  s.src = src;
  const done = new Promise<void>((resolve, reject) => {
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`${src} did not load: run npm run build:widget first`));
  });
  document.head.append(s);
  return done;
}

async function until(check: () => unknown, what: string): Promise<void> {
  const end = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const page = window as unknown as { latch: Latch & Record<string, unknown> };
const label = (el: Element) => el.shadowRoot?.querySelector('[part=button]')?.textContent?.trim();

describe('the built bundles', () => {
  before(async () => {
    const realFetch = window.fetch.bind(window);
    window.fetch = async (input, init) => {
      const url = String(input);
      if (!url.startsWith(BFF)) return realFetch(input, init);
      meCalls.push(url);
      return new Response(JSON.stringify({ error: { code: 'LATCH_UNAUTHENTICATED', message: 'no' } }), {
        status: 401,
        headers: { 'content-type': 'application/json' },
      });
    };
    addEventListener('error', (e) => errors.push(e.error ?? e.message));
    const realWarn = console.warn;
    console.warn = (...args: unknown[]) => {
      warnings.push(args);
      realWarn(...args);
    };
    document.body.innerHTML = `<latch-login bff="${BFF}"></latch-login><latch-login lang="de"></latch-login>`;
    await classicScript('/dist/latch.iife.js');
    await classicScript('/dist/latch.iife.js');
    await import(/* @vite-ignore */ `${location.origin}/dist/latch.js`);
  });

  it('load twice as classic scripts and once as a module without an error or a warning', () => {
    expect(errors).to.deep.equal([]);
    expect(warnings).to.deep.equal([]);
    expect(customElements.get('latch-login')).to.exist;
  });

  it("expose the latch API as the classic script's global", () => {
    for (const m of ['login', 'logout', 'me', 'fetch', 'configure', 'on', 'refresh'])
      expect(page.latch[m], m).to.be.a('function');
    expect(page.latch.version).to.match(/^\d+\.\d+\.\d+/);
  });

  it('share one session: /me is fetched once for all copies and elements', async () => {
    await until(() => page.latch.session.status == 'signed-out', 'signed out');
    const [first] = document.querySelectorAll('latch-login');
    await until(() => label(first!) == 'Sign in', 'English label');
    // (and, signed out, the providers once: latch-start.js)
    await until(() => meCalls.length == 2, 'the providers');
    expect(meCalls.sort()).to.deep.equal([`${BFF}/me`, `${BFF}/providers`]);
  });

  it("load a language chunk from beside the classic script, only when asked", async () => {
    const de = document.querySelectorAll<LatchLoginElement>('latch-login')[1]!;
    await until(() => label(de) == 'Anmelden', 'German label');
    const chunks = performance
      .getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => /latch-\w\w\.js$/.test(p));
    expect(chunks).to.deep.equal(['/dist/latch-de.js']);
  });
});

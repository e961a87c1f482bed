/// <reference types="mocha" />
// The password form in the built files (run after `npm run build:widget`): it is in
// dist/latch-password.js and not in the bundles, which import it from beside themselves only for
// an element with mode="password", and it signs in through the bundle's session. Like
// bundle.test.ts, this file imports no widget source.
import { expect } from '@esm-bundle/chai';
import type { Latch } from '../../widget/index.ts';
import { builtApart } from './built.ts';

const BFF = 'https://auth.latch.test/password-bundle';
const USER = { sub: 'user-1', name: 'Ada Lovelace' };
const posts: { url: string; headers: Headers; body: string; credentials?: RequestCredentials }[] = [];
const events: string[] = [];

async function until(check: () => unknown, what: string): Promise<void> {
  const end = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const page = window as unknown as { latch: Latch };
const $ = (el: Element, selector: string) => el.shadowRoot?.querySelector<HTMLElement>(selector) ?? null;
/** Imports of the form's file (not this file's own fetch() of its text). */
const chunkLoads = () =>
  (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
    (e) => new URL(e.name).pathname == '/dist/latch-password.js' && e.initiatorType != 'fetch',
  );

/** What only the form has: its route, its autocomplete tokens, its words. */
const FORM_MARKS = ['/login/password', 'current-password', 'The username or password is incorrect.', 'Too many attempts', 'Benutzername'];

describe('the password form in the built files', () => {
  builtApart('password', FORM_MARKS);

  describe('loaded by the classic script', () => {
    before(async () => {
      const realFetch = window.fetch.bind(window);
      let user: typeof USER | null = null;
      const json = (status: number, body: unknown) =>
        new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
      window.fetch = async (input, init = {}) => {
        const url = String(input);
        if (!url.startsWith(BFF)) return realFetch(input, init);
        if (url == `${BFF}/login/password`) {
          posts.push({ url, headers: new Headers(init.headers), body: String(init.body), credentials: init.credentials });
          const { password } = JSON.parse(String(init.body)) as { password: string };
          if (password != 'secret') return json(401, { error: { code: 'LATCH_INVALID_CREDENTIALS', message: 'no' } });
          user = USER;
          return json(200, { user, expiresAt: Date.now() + 3_600_000 });
        }
        return user
          ? json(200, { user, expiresAt: Date.now() + 3_600_000 })
          : json(401, { error: { code: 'LATCH_UNAUTHENTICATED', message: 'no' } });
      };
      for (const type of ['latch-login', 'latch-session-change', 'latch-error']) document.addEventListener(type, () => events.push(type));
      document.body.innerHTML = `<latch-login bff="${BFF}"></latch-login>`;
      const script = document.createElement('script');
      script.src = '/dist/latch.iife.js';
      await new Promise((resolve, reject) => {
        script.onload = resolve;
        script.onerror = () => reject(new Error('run npm run build:widget first'));
        document.head.append(script);
      });
    });

    it('only when an element has mode="password"', async () => {
      await until(() => page.latch.session.status == 'signed-out', 'signed out');
      await new Promise((r) => setTimeout(r, 50));
      expect(chunkLoads()).to.have.length(0);
      document.querySelector('latch-login')!.setAttribute('mode', 'password');
      await until(() => $(document.querySelector('latch-login')!, 'form'), 'the form');
      expect(chunkLoads()).to.have.length(1);
    });

    it('and the form signs in through the bundle\'s session', async () => {
      const el = document.querySelector('latch-login')!;
      const input = (name: string) => $(el, `input[name=${name}]`) as HTMLInputElement;
      input('username').value = 'ada';
      input('password').value = 'wrong';
      $(el, 'form button')!.click();
      await until(() => $(el, '[role=alert]')?.textContent == 'The username or password is incorrect.', 'the error');
      expect(input('password').value).to.equal('');
      expect(input('username').value).to.equal('ada');
      input('password').value = 'secret';
      $(el, 'form button')!.click();
      await until(() => page.latch.session.status == 'signed-in', 'signed in');
      await until(() => $(el, '[part=name]')?.textContent == 'Ada Lovelace', 'the name');
      expect(posts).to.have.length(2);
      expect(posts[1]!.headers.get('Latch-CSRF')).to.equal('1');
      expect(posts[1]!.headers.get('Content-Type')).to.equal('application/json');
      expect(posts[1]!.credentials).to.equal('include');
      expect(JSON.parse(posts[1]!.body)).to.deep.equal({ username: 'ada', password: 'secret' });
      // The failure sent latch-error; the sign-in, latch-login then latch-session-change.
      expect(events.slice(-3)).to.deep.equal(['latch-error', 'latch-login', 'latch-session-change']);
    });
  });
});

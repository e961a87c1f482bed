/**
 * Open redirects: a corpus of payloads, each sent as `returnTo` through the real routes. Through
 * /login it must bring the browser back (after a real sign-in at oidc-provider) to an allowed origin;
 * through /logout the post_logout_redirect_uri it builds must lie on an allowed origin. Parsing is
 * the BFF's (WHATWG URL, origin compared exactly), so browser quirks — backslashes, tabs and
 * newlines stripped, full-width characters folded — are part of the corpus.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { followLogoutHandle, HttpClient } from '../helpers/http.ts';
import { assertNoSessionSet, OTHER_SITE, post, quickCallback, sessionCookieHeader, signedIn, SITE, startSecStack, type SecStack } from './support.ts';

const ALLOWED = new Set([SITE, OTHER_SITE]);

const OPEN_REDIRECT_PAYLOADS: readonly string[] = [
  // Scheme-relative and slash tricks
  '//evil.example',
  '//evil.example/path?x=1',
  '///evil.example',
  '////evil.example/',
  '/\\evil.example',
  '\\/evil.example',
  '\\\\evil.example',
  '/\\/evil.example',
  '/.//evil.example',
  // Encoded slashes and backslashes
  '%2F%2Fevil.example',
  '%2f%2fevil.example',
  '/%2Fevil.example',
  '/%5Cevil.example',
  '%5C%5Cevil.example',
  'http:%2F%2Fevil.example',
  'http%3A%2F%2Fevil.example',
  // Tabs, newlines, spaces and control characters (browsers strip some of them)
  '/\t/evil.example',
  '\t//evil.example',
  '/%09/evil.example',
  '%09//evil.example',
  ' //evil.example',
  '\r\n//evil.example',
  '/%0a/evil.example',
  'http://evil.example\t',
  '\u0000//evil.example',
  // javascript:, data: and other schemes
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'java\tscript:alert(1)',
  ' javascript:alert(1)',
  '\u0001javascript:alert(1)',
  'javascript%3Aalert(1)',
  '%6A%61%76%61%73%63%72%69%70%74:alert(1)',
  'javascript://www.latch.test:8080/%0aalert(1)',
  'data:text/html,<script>alert(1)</script>',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
  'blob:http://www.latch.test:8080/1234',
  // Credentials: user@host
  'http://www.latch.test:8080@evil.example/',
  'http://user:pass@evil.example/',
  'http://evil.example@www.latch.test:8080/',
  'http://www.latch.test:8080%40evil.example/',
  'http://www.latch.test:8080\\@evil.example/',
  // Look-alike hosts
  'http://www.latch.test:8080.evil.example/',
  'http://www.latch.test.evil.example:8080/',
  'http://evil.example/http://www.latch.test:8080',
  'http://evil.example?http://www.latch.test:8080',
  'http://evil.example#http://www.latch.test:8080',
  'http://www.latch.test.:8080/',
  'http://wwwxlatch.test:8080/',
  'http://www.l\u0430tch.test:8080/',
  'http://www.latch.test:8081/',
  'https://www.latch.test:8080/',
  'http://127.0.0.1:8080/',
  'http://[::1]:8080/',
  'http://0x7f.1:8080/',
  // Full-width and other Unicode slashes
  '\uFF0F\uFF0Fevil.example',
  '/\uFF0Fevil.example',
  'http:\uFF0F\uFF0Fevil.example',
  'http://evil.example\uFF0Fwww.latch.test:8080',
  '\u2215\u2215evil.example',
  '\u2044\u2044evil.example',
  'http://evil\u3002example/',
  // Scheme without slashes
  'https:evil.example',
  'http:/evil.example',
  'http:\\\\evil.example',
  // Degenerate
  '',
  'x'.repeat(5000),
  `${SITE}/${'a'.repeat(3000)}`,
];

describe('open-redirect corpus through /login and /logout', () => {
  let stack: SecStack;
  let client: HttpClient;
  before(async () => {
    stack = await startSecStack();
    ({ client } = await signedIn(stack));
  });
  after(() => stack.close());

  const landing = async (returnTo: string) => {
    const callback = await quickCallback(client, stack.bffUrl, returnTo);
    assert.equal(callback.status, 302, `callback ${callback.status} ${callback.text.slice(0, 200)}`);
    const raw = callback.headers.get('location')!;
    return { url: new URL(raw), raw, cookie: sessionCookieHeader(callback.setCookies) };
  };

  it('returns to an allowed returnTo exactly (the control case)', async () => {
    for (const target of [`${SITE}/account?tab=1#x`, `${OTHER_SITE}/cart`]) {
      const { url } = await landing(target);
      assert.equal(url.href, new URL(target).href);
    }
  });

  for (const [i, payload] of OPEN_REDIRECT_PAYLOADS.entries()) {
    const label = JSON.stringify(payload.length > 60 ? `${payload.slice(0, 40)}…(${payload.length})` : payload);
    it(`#${i + 1} ${label} lands on an allowed origin, through /login and through /logout`, async () => {
      const { url, raw, cookie } = await landing(payload);
      assert.ok(ALLOWED.has(url.origin), `/login landed on ${raw}`);
      assert.ok(raw.startsWith(`${url.origin}/`), `the Location header itself starts with the origin: ${raw}`);
      assert.ok(url.protocol === 'http:' || url.protocol === 'https:');
      assert.equal(url.username + url.password, '');

      const out = await post(`${stack.bffUrl}/logout?returnTo=${encodeURIComponent(payload)}`, { cookie, origin: SITE, 'latch-csrf': '1' });
      assert.equal(out.status, 200, out.text);
      assertNoSessionSet(out);
      const { logoutUrl } = out.json<{ logoutUrl: string }>();
      const postLogout = (await followLogoutHandle(new HttpClient(), logoutUrl)).searchParams.get('post_logout_redirect_uri')!;
      assert.ok(ALLOWED.has(new URL(postLogout).origin), `/logout sends the browser on to ${postLogout}`);
      assert.ok(postLogout.startsWith(`${new URL(postLogout).origin}/`));
    });
  }

  it('posts a popup result only to an allowed origin, whatever returnTo says', async () => {
    for (const payload of ['//evil.example', 'javascript:alert(1)', 'http://www.latch.test:8080@evil.example/']) {
      const res = await quickCallback(client, stack.bffUrl, payload, '&mode=popup');
      assert.equal(res.status, 200);
      const origin = /"origin":"([^"]+)"/.exec(res.text)?.[1];
      assert.ok(origin && ALLOWED.has(origin), `popup posts to ${origin}`);
      assert.doesNotMatch(res.text, /evil\.example|javascript:/);
    }
  });
});

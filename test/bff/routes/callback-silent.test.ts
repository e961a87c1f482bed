/**
 * Silent sign-in (`/login?prompt=none&mode=silent`, bff/routes/login.ts and callback.ts, pages.ts
 * `silentResultPage`) against a real oidc-provider: with a browser session at the provider the hidden
 * iframe's page tells its parent `ok`, and sets the session; without one it tells `login_required` and
 * sets nothing; the top-level variant comes back with `latch_error=login_required`. Framing: the
 * silent page by the site's allowed origins only, every other page of the BFF still DENY.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient, type HttpResult } from '../../helpers/http.ts';
import { assertNoSessionSet, OTHER_SITE, pendingCallback, sessionCookiesSet, signedIn, SITE, startSecStack, type SecStack } from '../../security/support.ts';

/** The message and target origin the page's script posts. */
function posted(page: HttpResult): { message: { type: string; ok: boolean; error?: string }; origin: string } {
  const payload = /var d=(\{.*?\});/.exec(page.text)?.[1];
  assert.ok(payload, `a posting script: ${page.text.slice(0, 300)}`);
  return JSON.parse(payload) as { message: { type: string; ok: boolean; error?: string }; origin: string };
}

describe('silent sign-in (prompt=none)', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack();
  });
  after(async () => {
    await stack?.close();
  });
  const silent = `&prompt=none&mode=silent`;

  it('with a session at the provider: the page posts { ok: true } to the parent\'s exact origin, sets the session, and is frameable by the allowed origins only', async () => {
    const { client } = await signedIn(stack); // the provider now has this browser's session
    const callback = await pendingCallback(client, stack.bffUrl, `${SITE}/account`, silent);
    assert.equal(callback.searchParams.get('error'), null, 'the provider answered without a page');
    const page = await client.request(callback.href);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.deepEqual(posted(page), { message: { type: 'latch:login', ok: true }, origin: SITE });
    assert.match(page.text, /window\.parent\.postMessage\(d\.message,d\.origin\)/);
    assert.ok(sessionCookiesSet(page.setCookies).length > 0, 'signed in');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, new RegExp(`frame-ancestors ${SITE} ${OTHER_SITE}(;|$)`));
    assert.match(csp, /script-src 'nonce-[^']+'/);
    assert.equal(page.headers.get('x-frame-options'), null, 'XFO would forbid the allowed origins too');
  });

  it('without a session at the provider: the page posts { ok: false, error: "login_required" } and sets no session', async () => {
    const client = new HttpClient();
    const callback = await pendingCallback(client, stack.bffUrl, `${SITE}/`, silent);
    assert.equal(callback.searchParams.get('error'), 'login_required');
    const page = await client.request(callback.href);
    assert.equal(page.status, 200);
    assert.deepEqual(posted(page), { message: { type: 'latch:login', ok: false, error: 'login_required' }, origin: SITE });
    assertNoSessionSet(page, 'silent, no provider session');
  });

  it('forces prompt=none on mode=silent, whatever prompt the page asked', async () => {
    const res = await new HttpClient().request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}&mode=silent&prompt=login`);
    assert.equal(res.status, 302);
    assert.equal(new URL(res.location!).searchParams.get('prompt'), 'none');
  });

  it('the top-level variant comes back to returnTo with latch_error=login_required', async () => {
    const client = new HttpClient();
    const callback = await pendingCallback(client, stack.bffUrl, `${SITE}/page?x=1`, '&prompt=none');
    const res = await client.request(callback.href);
    assert.equal(res.status, 302);
    const back = new URL(res.location!);
    assert.equal(back.origin + back.pathname, `${SITE}/page`);
    assert.equal(back.searchParams.get('latch_error'), 'login_required');
    assertNoSessionSet(res, 'top-level prompt=none');
  });

  it('keeps every other page unframeable: the popup page, error pages, JSON answers', async () => {
    const { client } = await signedIn(stack);
    const popup = await client.request((await pendingCallback(client, stack.bffUrl, `${SITE}/`, '&mode=popup')).href);
    const error = await new HttpClient().request(`${stack.bffUrl}/callback?state=forged&code=x`);
    const me = await new HttpClient().request(`${stack.bffUrl}/me`);
    for (const res of [popup, error, me]) {
      assert.equal(res.headers.get('x-frame-options'), 'DENY', res.url);
      const csp = res.headers.get('content-security-policy');
      if (csp) assert.match(csp, /frame-ancestors 'none'/, res.url);
    }
  });
});

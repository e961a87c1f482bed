/**
 * GET /callback (bff/routes/callback.ts): a forged callback answered in memory (no transaction for its
 * state: nothing is asked of any server), and a sign-in the user cancels at a real oidc-provider.
 * Every other way to tamper with a callback: test/security/tokens.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HAND_ENDPOINTS, memoryBff, SITE } from '../../helpers/bff.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';

describe('GET /callback', () => {
  const bff = memoryBff(HAND_ENDPOINTS);

  it('answers 400 LATCH_STATE_MISMATCH to a callback whose state has no transaction, and sets no cookie', async () => {
    const client = bff.client();
    await client.request(`${bff.url}/login?returnTo=${encodeURIComponent(SITE + '/')}`);
    const forged = await client.request(`${bff.url}/callback?code=abc&state=not-the-state`, { headers: { accept: 'text/html' } });
    assert.equal(forged.status, 400);
    assert.match(forged.headers.get('content-type') ?? '', /html/);
    assert.match(forged.text, /LATCH_STATE_MISMATCH/);
    assert.doesNotMatch(forged.text, /at .*\.ts:\d+/, 'no stack trace');
    assert.equal(forged.setCookies.length, 0);
    assert.match(forged.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });
});

describe('GET /callback against oidc-provider', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('answers access_denied with a redirect back carrying latch_error, and no session', async () => {
    const client = new HttpClient();
    const { finalUrl, callbackResult } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/p')}`, stack.user, { cancel: true });
    assert.equal(finalUrl.origin, stack.siteOrigin);
    assert.equal(finalUrl.searchParams.get('latch_error'), 'access_denied');
    assert.equal(callbackResult?.setCookies.find((c) => c.startsWith('latch=')), undefined);
    assert.equal((await client.request(`${stack.bffUrl}/me`)).status, 401);
  });
});

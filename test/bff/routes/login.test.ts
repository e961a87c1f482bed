/**
 * GET /login (bff/routes/login.ts). The authorization URL and the transaction cookies, answered in
 * memory by a BFF whose endpoints are given by hand (no call to any server); then, against a real
 * oidc-provider, two sign-ins at once and a returnTo on another origin, which only a completed
 * sign-in shows. Open redirects: test/security/redirects.test.ts; transaction cookies piling up:
 * test/security/cookies.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HAND_ENDPOINTS, memoryBff, SITE } from '../../helpers/bff.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';

describe('GET /login', () => {
  const bff = memoryBff(HAND_ENDPOINTS);

  it('sends PKCE S256, state and nonce, and a transaction cookie per attempt', async () => {
    const client = bff.client();
    const a = await client.request(`${bff.url}/login?returnTo=${encodeURIComponent(SITE + '/a')}`);
    const b = await client.request(`${bff.url}/login?returnTo=${encodeURIComponent(SITE + '/b')}`);
    assert.equal(a.status, 302);
    const url = new URL(a.location!);
    assert.equal(`${url.origin}${url.pathname}`, HAND_ENDPOINTS.LATCH_AUTHORIZATION_ENDPOINT);
    assert.equal(url.searchParams.get('redirect_uri'), `${bff.url}/callback`);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(url.searchParams.get('code_challenge'));
    assert.ok(url.searchParams.get('state'));
    assert.ok(url.searchParams.get('nonce'));
    assert.equal(url.searchParams.get('scope'), 'openid profile email offline_access');
    const txA = a.setCookies.find((c) => c.startsWith('latch-tx-'))?.split('=')[0];
    const txB = b.setCookies.find((c) => c.startsWith('latch-tx-'))?.split('=')[0];
    assert.ok(txA && txB && txA !== txB, 'two attempts keep two transaction cookies');
  });
});

describe('GET /login against oidc-provider', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('lets two tabs sign in at once', async () => {
    const client = new HttpClient();
    const first = await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/one')}`);
    // The second tab completes its sign-in while the first one's transaction is still open.
    const second = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/two')}`, stack.user);
    assert.equal(second.finalUrl.pathname, '/two');
    // The first tab then finishes: the provider already has a session, so it redirects straight back.
    const { chain } = await client.follow(first.location!, { until: (u) => u.origin === stack.siteOrigin });
    assert.equal(new URL(chain.at(-1)!).pathname, '/one');
  });

  it('falls back to the first allowed origin for a returnTo elsewhere', async () => {
    const client = new HttpClient();
    const { finalUrl } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent('https://evil.example/steal')}`, stack.user);
    assert.equal(finalUrl.href, `${stack.siteOrigin}/`);
  });
});

/**
 * Pushed authorization requests (bff/oauth/par.ts): against oidc-provider, /login pushes the request
 * and sends the browser with client_id and request_uri only; with LATCH_PAR=true, and without it when
 * discovery says the server requires PAR. Routing parameters and login_hint go through the push.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { errorCode } from '../../security/support.ts';

async function firstRedirect(stack: Stack, query: string): Promise<URL> {
  const res = await new HttpClient().request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}${query}`);
  assert.equal(res.status, 302, res.text.slice(0, 300));
  return new URL(res.location!);
}

for (const [label, setup] of [
  ['LATCH_PAR=true', { env: { LATCH_PAR: 'true' } }],
  ['a server that requires PAR (discovery), LATCH_PAR unset', { provider: { par: { required: true } } }],
] as const) {
  describe(`PAR: ${label}`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(setup);
    });
    after(() => stack.close());

    it('redirects with client_id and request_uri only, the rest pushed', async () => {
      const url = await firstRedirect(stack, '&login_hint=dana%40latch.test&organization_id=org_1&connection_id=con_9');
      assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      assert.equal(url.searchParams.get('client_id'), stack.clientId);
      assert.match(url.searchParams.get('request_uri')!, /^urn:ietf:params:oauth:request_uri:/);
      const pushed = stack.provider.pushed.at(-1)!;
      assert.equal(pushed['login_hint'], 'dana@latch.test');
      assert.equal(pushed['organization_id'], 'org_1');
      assert.equal(pushed['connection_id'], 'con_9');
      assert.equal(pushed['code_challenge_method'], 'S256');
      assert.ok(pushed['state'] && pushed['nonce'] && pushed['code_challenge']);
    });

    it('signs in through the pushed request', async () => {
      const client = new HttpClient();
      const { finalUrl } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
      assert.equal(finalUrl.origin, stack.siteOrigin);
      const me = await client.request(`${stack.bffUrl}/me`, { headers: { origin: stack.siteOrigin } });
      assert.equal(me.status, 200);
    });
  });
}

describe('PAR refused by the server', () => {
  let stack: Stack;
  before(async () => {
    // The server knows another redirect URI for the client: it refuses the push (invalid_redirect_uri).
    stack = await startStack({ env: { LATCH_PAR: 'true' }, client: { redirect_uris: ['https://elsewhere.latch.test/callback'] } });
  });
  after(() => stack.close());

  it('answers a coded 502 page (the configuration\'s fault), never a 500, and sets no transaction', async () => {
    const res = await new HttpClient().request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 502, res.text.slice(0, 200));
    assert.equal(errorCode(res), 'LATCH_UPSTREAM_ERROR');
    assert.equal(res.setCookies.length, 0);
  });
});

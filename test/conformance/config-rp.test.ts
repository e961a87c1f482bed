/**
 * The OpenID conformance suite's Config RP plan (OIDCCClientConfigTestPlan): discovery, the key set it
 * names, an issuer that does not match, an unsigned ID token, and signing keys rotated between two
 * sign-ins or just before signing. Each module starts a BFF with nothing cached, so its first
 * discovery and key fetch are the module's. See docs/conformance.md.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpClient } from '../helpers/http.ts';
import { loginUrl, signedIn, type SecStack } from '../security/support.ts';
import { assertRefusedCleanly, assertSignedIn, signInAs, startBatteryStack } from './support.ts';

describe('OpenID conformance: Config RP plan', () => {
  let stack: SecStack;
  let client: HttpClient;
  before(async () => {
    stack = await startBatteryStack();
    ({ client } = await signedIn(stack));
  });
  after(() => stack.close());

  it('oidcc-client-test-discovery-openid-config: reads the provider configuration and signs in with what it names', async () => {
    await stack.restartBff();
    const before = stack.interceptor!.counts.discovery;
    const { res } = await signInAs(stack, client);
    await assertSignedIn(stack, res);
    assert.equal(stack.interceptor!.counts.discovery, before + 1, 'discovery read once');
  });

  it('oidcc-client-test-discovery-jwks-uri-keys: fetches the keys from the jwks_uri discovery names (a path nothing else gives)', async () => {
    await stack.restartBff();
    const before = stack.interceptor!.counts.jwks;
    const { res } = await signInAs(stack, client, { sign: 'valid' });
    await assertSignedIn(stack, res);
    assert.equal(stack.interceptor!.counts.jwks, before + 1, 'the key set was fetched from discovery\'s jwks_uri');
  });

  it('oidcc-client-test-discovery-issuer-mismatch: stops after discovery when its issuer is not the configured one (502 LATCH_UPSTREAM_ERROR)', async () => {
    await stack.restartBff();
    stack.interceptor!.onDiscovery = (doc) => ({ ...doc, issuer: `${String(doc['issuer'])}/INVALID` });
    const authorizations = stack.provider.counts.authorization;
    try {
      const res = await client.request(loginUrl(stack.bffUrl), { headers: { accept: 'text/html' } });
      assertRefusedCleanly(stack, res, 502, 'LATCH_UPSTREAM_ERROR');
      assert.equal(res.location, null, 'no redirect to the authorization endpoint');
      assert.equal(stack.provider.counts.authorization, authorizations, 'the authorization endpoint was never reached');
    } finally {
      stack.interceptor!.onDiscovery = undefined;
      await stack.restartBff();
    }
  });

  it('oidcc-client-test-idtoken-sig-none: refuses an unsigned ID token (400 LATCH_ID_TOKEN_INVALID)', async () => {
    const { res, code } = await signInAs(stack, client, { sign: 'none' });
    assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
  });

  it('oidcc-client-test-signing-key-rotation-just-before-signing: refetches the keys for an ID token signed with a key rotated in just before', async () => {
    await stack.restartBff();
    // The BFF has the key set already (a first sign-in), then the server rotates right before it signs.
    await assertSignedIn(stack, (await signInAs(stack, client, { sign: 'valid' })).res);
    const fetched = stack.interceptor!.counts.jwks;
    const { res } = await signInAs(stack, client, { sign: 'valid', rotateFirst: true });
    await assertSignedIn(stack, res);
    assert.equal(stack.interceptor!.counts.jwks, fetched + 1, 'one refetch');
  });

  it('oidcc-client-test-signing-key-rotation: signs in again after the keys were rotated between two sign-ins', async () => {
    await stack.restartBff();
    await assertSignedIn(stack, (await signInAs(stack, client, { sign: 'valid' })).res);
    const oldKid = stack.interceptor!.kid;
    await stack.interceptor!.rotate();
    assert.notEqual(stack.interceptor!.kid, oldKid);
    const { res } = await signInAs(stack, client, { sign: 'valid' });
    await assertSignedIn(stack, res);
  });
});

/**
 * The OpenID conformance suite's Basic RP plan (OIDCCClientBasicTestPlan), one test per module,
 * each named after the module it mirrors. The BFF signs in through the real oidc-provider; the
 * interceptor (test/security/evil-as.ts) plays the module's server: it rewrites the token answer,
 * userinfo or JWKS exactly as that module's server does, and nothing else. Positive modules use
 * the real provider's answers untouched where they can. See docs/conformance.md.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, type JWK } from 'jose';
import type { HttpClient } from '../helpers/http.ts';
import { decodeJwt, jwksAnswer, type Claims } from '../security/evil-as.ts';
import { get, signedIn, type SecStack } from '../security/support.ts';
import { assertRefusedCleanly, assertSignedIn, signInAs, startBatteryStack } from './support.ts';

const now = () => Math.floor(Date.now() / 1000);
/** An ID token claim rewrite, as the module's server makes it (undefined members removed). */
const idToken = (rewrite: (c: Claims) => Claims) => ({ claims: (c: Claims) => JSON.parse(JSON.stringify(rewrite(c))) as Claims });

describe('OpenID conformance: Basic RP plan', () => {
  let stack: SecStack;
  let client: HttpClient;
  before(async () => {
    stack = await startBatteryStack();
    ({ client } = await signedIn(stack));
  });
  after(() => stack.close());

  it('oidcc-client-test: signs in with the code flow through the real provider, and calls userinfo', async () => {
    const userinfo = stack.interceptor!.counts.userinfo;
    const { res } = await signInAs(stack, client);
    await assertSignedIn(stack, res);
    assert.equal(stack.interceptor!.counts.userinfo, userinfo + 1, 'userinfo was called');
    assert.equal(stack.interceptor!.seen.grants.at(-1), 'authorization_code');
  });

  it('oidcc-client-test-invalid-iss: refuses an ID token whose iss is not the issuer (400 LATCH_ID_TOKEN_INVALID)', async () => {
    const { res, code } = await signInAs(stack, client, idToken((c) => ({ ...c, iss: `${c['iss']}/wrong` })));
    assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
  });

  it('oidcc-client-test-missing-sub: refuses an ID token without sub (400 LATCH_ID_TOKEN_INVALID)', async () => {
    const { res, code } = await signInAs(stack, client, idToken((c) => ({ ...c, sub: undefined })));
    assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
  });

  it('oidcc-client-test-invalid-aud: refuses an ID token for another audience (400 LATCH_ID_TOKEN_INVALID)', async () => {
    const { res, code } = await signInAs(stack, client, idToken((c) => ({ ...c, aud: `${c['aud']}-INVALID` })));
    assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
  });

  it('oidcc-client-test-missing-iat: refuses an ID token without iat (400 LATCH_ID_TOKEN_INVALID)', async () => {
    const { res, code } = await signInAs(stack, client, idToken((c) => ({ ...c, iat: undefined })));
    assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
  });

  it('oidcc-client-test-kid-absent-single-jwks: verifies a token without kid with the one key of a JWKS without kids', async () => {
    await stack.restartBff(); // a key set fetched for this module only
    const { kid: _kid, ...kidless } = stack.interceptor!.publicJwk();
    stack.interceptor!.onJwks = () => jwksAnswer([kidless as JWK]);
    try {
      const { res } = await signInAs(stack, client, { sign: 'valid', header: { kid: undefined } });
      await assertSignedIn(stack, res);
      assert.equal(decodeJwt(String(stack.interceptor!.lastToken?.['id_token'])).header['kid'], undefined, 'the ID token had no kid');
    } finally {
      stack.interceptor!.onJwks = undefined;
    }
  });

  it('oidcc-client-test-kid-absent-multiple-jwks: tries each matching key for a token without kid, and signs in', async () => {
    await stack.restartBff();
    const { kid: _kid, ...ours } = stack.interceptor!.publicJwk();
    const others = await Promise.all([0, 1].map(async () => {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return { ...(await exportJWK(publicKey)), alg: 'RS256', use: 'sig' } as JWK;
    }));
    // Ours in the middle: a first-match verifier would fail.
    stack.interceptor!.onJwks = () => jwksAnswer([others[0]!, ours as JWK, others[1]!]);
    try {
      const { res } = await signInAs(stack, client, { sign: 'valid', header: { kid: undefined } });
      await assertSignedIn(stack, res);
    } finally {
      stack.interceptor!.onJwks = undefined;
    }
  });

  it('oidcc-client-test-idtoken-sig-rs256: accepts the real provider\'s RS256-signed ID token', async () => {
    const { res } = await signInAs(stack, client);
    await assertSignedIn(stack, res);
    assert.equal(decodeJwt(String(stack.interceptor!.lastToken?.['id_token'])).header['alg'], 'RS256');
  });

  it('oidcc-client-test-idtoken-sig-none: refuses an unsigned (alg none) ID token from the token endpoint (400 LATCH_ID_TOKEN_INVALID)', async () => {
    const userinfo = stack.interceptor!.counts.userinfo;
    const { res, code } = await signInAs(stack, client, { sign: 'none' });
    assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
    assert.equal(stack.interceptor!.counts.userinfo, userinfo, 'no userinfo request after an unsigned ID token');
  });

  it('oidcc-client-test-invalid-sig-rs256: refuses an RS256 ID token whose signature does not verify (400 LATCH_ID_TOKEN_INVALID)', async () => {
    const userinfo = stack.interceptor!.counts.userinfo;
    const { res, code } = await signInAs(stack, client, { sign: 'bad-signature' });
    assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
    assert.equal(stack.interceptor!.counts.userinfo, userinfo, 'no userinfo request after an invalid signature');
  });

  it('oidcc-client-test-userinfo-invalid-sub: refuses a userinfo answer whose sub is not the ID token\'s (400 LATCH_USERINFO_INVALID)', async () => {
    stack.interceptor!.onUserinfo = (c) => ({ ...c, sub: `${c['sub']}-INVALID` });
    try {
      const { res, code } = await signInAs(stack, client);
      assertRefusedCleanly(stack, res, 400, 'LATCH_USERINFO_INVALID', [code]);
    } finally {
      stack.interceptor!.onUserinfo = undefined;
    }
  });

  it('oidcc-client-test-nonce-invalid: refuses an ID token whose nonce is not the request\'s (400 LATCH_ID_TOKEN_INVALID)', async () => {
    const { res, code } = await signInAs(stack, client, idToken((c) => ({ ...c, nonce: `${c['nonce']}-INVALID` })));
    assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
  });

  it('oidcc-client-test-scope-userinfo-claims: asks for profile and email, and takes the claims userinfo returns', async () => {
    const login = await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`);
    const scopes = new URL(login.location!).searchParams.get('scope')!.split(' ');
    assert.ok(scopes.includes('profile') && scopes.includes('email'), scopes.join(' '));
    // The ID token carries no profile or email claims: they can only come from userinfo.
    const { res } = await signInAs(stack, client, idToken((c) => ({ ...c, name: undefined, email: undefined, email_verified: undefined })));
    const cookie = await assertSignedIn(stack, res);
    const { user } = (await get(`${stack.bffUrl}/me`, { cookie })).json<{ user: Record<string, unknown> }>();
    assert.equal(user['email'], 'dana@latch.test');
    assert.equal(user['name'], 'Dana Demo');
  });

  it('oidcc-client-test-client-secret-basic: authenticates at the token endpoint with client_secret_basic', async () => {
    const { res } = await signInAs(stack, client);
    await assertSignedIn(stack, res);
    assert.equal(stack.interceptor!.seen.tokenAuth.at(-1), 'Basic');
  });

  it('control: an ID token the interceptor re-signs with only its times changed signs in (each refusal above is its defect alone)', async () => {
    const { res } = await signInAs(stack, client, { ...idToken((c) => ({ ...c, iat: now(), exp: now() + 60 })), sign: 'valid' });
    await assertSignedIn(stack, res);
  });
});

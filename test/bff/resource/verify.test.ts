/**
 * verifyAccessToken and readBearerToken (bff/resource/verify.ts) without a framework, against an issuer
 * of our own on loopback. The rules through the Koa middleware (audiences, algorithms, typ, scopes, the
 * key set): require-token.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccessTokenError, readAccessToken, readBearerToken, verifyAccessToken } from '../../../bff/resource/verify.ts';
import { closeIssuers, keyedIssuer, RESOURCE } from './support.ts';

describe('verifyAccessToken', () => {
  let idp: Awaited<ReturnType<typeof keyedIssuer>>;
  before(async () => {
    idp = await keyedIssuer();
  });
  after(closeIssuers);

  it('works without a framework: verifyAccessToken resolves the claims or throws a coded AccessTokenError', async () => {
    const options = { issuer: idp.issuer, audience: RESOURCE, scopes: ['orders:read'], allowInsecureHttp: true };
    const ok = await verifyAccessToken(await idp.sign({ sub: 'alice' }), options);
    assert.equal(ok.claims.sub, 'alice');
    assert.deepEqual(ok.scopes, ['orders:read']);
    await assert.rejects(verifyAccessToken(await idp.sign({ aud: 'https://else.test' }), options), (err: unknown) => {
      assert.ok(err instanceof AccessTokenError);
      assert.equal(err.code, 'invalid_token');
      assert.equal(err.status, 401);
      return true;
    });
    await assert.rejects(verifyAccessToken(await idp.sign(), { ...options, scopes: ['orders:write'] }), (err: unknown) => {
      assert.ok(err instanceof AccessTokenError);
      assert.equal(err.code, 'insufficient_scope');
      assert.equal(err.status, 403);
      assert.equal(err.challenge(), 'Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="orders:write"');
      return true;
    });
  });
});

describe('readBearerToken', () => {
  it('reads the bearer token from the Authorization header only', () => {
    assert.equal(readBearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(readBearerToken('bearer abc.def.ghi'), 'abc.def.ghi');
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof AccessTokenError ? err.code : 'other';
      }
      return 'none';
    };
    assert.equal(code(() => readBearerToken(undefined)), 'invalid_token');
    assert.equal(code(() => readBearerToken('Basic abc')), 'invalid_token');
    assert.equal(code(() => readBearerToken('Bearer a b')), 'invalid_token');
    assert.equal(code(() => readBearerToken('Bearer abc', 'access_token=abc')), 'invalid_request');
    assert.equal(code(() => readBearerToken('DPoP abc.def.ghi')), 'invalid_token', 'readBearerToken takes Bearer only');
  });

  it('readAccessToken also reads the DPoP scheme, and says which it was', () => {
    assert.deepEqual(readAccessToken('DPoP abc.def.ghi'), { token: 'abc.def.ghi', scheme: 'DPoP' });
    assert.deepEqual(readAccessToken('dpop abc.def.ghi'), { token: 'abc.def.ghi', scheme: 'DPoP' });
    assert.deepEqual(readAccessToken('Bearer abc.def.ghi'), { token: 'abc.def.ghi', scheme: 'Bearer' });
    assert.throws(() => readAccessToken('DPoPabc'), AccessTokenError);
    assert.throws(() => readAccessToken('DPoP a b'), (err: AccessTokenError) => err.reason === 'malformed header' && err.scheme === 'DPoP');
  });
});

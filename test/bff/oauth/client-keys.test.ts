/**
 * private_key_jwt (bff/oauth/client-keys.ts, routes/jwks.ts, config/client-keys.ts): a real
 * oidc-provider whose client authenticates with `private_key_jwt` and fetches the client's keys from
 * the BFF's own /.well-known/jwks.json; sign-in, refresh, revocation and service tokens all go through
 * it. The key list (the first signs) and the start-up checks without a server.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { loadConfig } from '../../../bff/config.ts';
import { ClientKeys } from '../../../bff/oauth/client-keys.ts';
import { createServiceTokens } from '../../../bff/oauth/service-token.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { patchedSessionCookie, signedIn } from '../routes/proxy-support.ts';

const pem = (type: 'rsa' | 'ec', bits = 2048) => {
  const { privateKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
};

describe('private_key_jwt against oidc-provider, which fetches the BFF\'s JWKS', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      client: (bffUrl) => ({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${bffUrl}/.well-known/jwks.json` }),
      // The new key first (it signs), the old one after it (still published).
      env: { LATCH_TOKEN_AUTH_METHOD: 'private_key_jwt', LATCH_CLIENT_PRIVATE_KEY: `${pem('ec')}\n${pem('rsa')}`, LATCH_CLIENT_SECRET: '' },
    });
  });
  after(() => stack.close());

  it('publishes both public keys, without private members', async () => {
    const res = await fetch(`${stack.bffUrl}/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/jwk-set+json');
    const { keys } = (await res.json()) as { keys: Array<Record<string, string>> };
    assert.deepEqual(keys.map((k) => [k['kty'], k['alg'], k['use']]), [['EC', 'ES256', 'sig'], ['RSA', 'RS256', 'sig']]);
    assert.ok(keys.every((k) => typeof k['kid'] === 'string' && k['d'] === undefined && k['p'] === undefined));
  });

  it('signs in, refreshes, gets service tokens and revokes with a client assertion', async () => {
    stack.provider.resetCounts();
    const { cookie, session } = await signedIn(stack);
    assert.equal(stack.provider.counts.tokenByGrant['authorization_code'], 1);
    const { cookie: expired } = await patchedSessionCookie(stack.app, cookie, { atExp: Date.now() - 1000 });
    const me = await fetch(`${stack.bffUrl}/me`, { headers: { origin: stack.siteOrigin, cookie: expired } });
    assert.equal(me.status, 200, await me.clone().text());
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
    const service = await createServiceTokens(stack.app.latch.provider).getServiceToken({});
    assert.ok(service.accessToken);
    // Revocation: the refresh token is dead at the provider afterwards (revocation failures are silent, so ask).
    const rt = (await stack.app.latch.sites.all[0]!.cookies.read(me.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')))?.session.rt;
    assert.ok(rt && rt !== session.rt);
    await stack.app.latch.provider.revoke({ accessToken: session.at, refreshToken: rt });
    await assert.rejects(stack.app.latch.provider.refresh(rt, session.user.sub), (err: { code?: string }) => err.code === 'LATCH_REFRESH_FAILED');
  });
});

describe('ClientKeys', () => {
  it('signs the client assertion with the first key, under the kid it publishes', async () => {
    const config = loadConfig({ ...BASE_ENV, LATCH_ISSUER: 'https://login.example.com', LATCH_TOKEN_AUTH_METHOD: 'private_key_jwt', LATCH_CLIENT_PRIVATE_KEY: `${pem('rsa')}${pem('ec')}` });
    const keys = new ClientKeys(config.clientKeys);
    const body = new URLSearchParams();
    await keys.clientAuth()({ issuer: 'https://login.example.com' } as oauth.AuthorizationServer, { client_id: 'web' }, body, new Headers());
    const assertion = body.get('client_assertion')!;
    const { keys: published } = await keys.jwks();
    assert.equal(decodeProtectedHeader(assertion).kid, published[0]!.kid);
    const { payload } = await jwtVerify(assertion, await importJWK(published[0]!, 'RS256'), { issuer: 'web', subject: 'web', audience: 'https://login.example.com' });
    assert.ok(payload.jti);
    await assert.rejects(jwtVerify(assertion, await importJWK(published[1]!, 'ES256')), 'not by the second key');
  });
});

describe('LATCH_CLIENT_PRIVATE_KEY', () => {
  const base = { ...BASE_ENV, LATCH_ISSUER: 'https://login.example.com', LATCH_TOKEN_AUTH_METHOD: 'private_key_jwt' };

  it('reads PEM, a JWK, a JWK set or a file, keeping a JWK\'s kid and alg, with no client secret needed', () => {
    const { LATCH_CLIENT_SECRET: _secret, ...noSecret } = base;
    assert.equal(loadConfig({ ...noSecret, LATCH_CLIENT_PRIVATE_KEY: pem('ec') }).clientKeys.length, 1);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k-2026', alg: 'PS256' };
    const [one] = loadConfig({ ...base, LATCH_CLIENT_PRIVATE_KEY: JSON.stringify(jwk) }).clientKeys;
    assert.deepEqual([one!.kid, one!.alg], ['k-2026', 'PS256']);
    assert.equal(loadConfig({ ...base, LATCH_CLIENT_PRIVATE_KEY: JSON.stringify({ keys: [jwk, jwk] }) }).clientKeys.length, 2);
    const file = join(mkdtempSync(join(tmpdir(), 'latch-keys-')), 'key.pem');
    writeFileSync(file, pem('rsa'));
    assert.equal(loadConfig({ ...base, LATCH_CLIENT_PRIVATE_KEY_FILE: file }).clientKeys[0]!.alg, 'RS256');
  });

  it('names the variable for a missing, unreadable, public, weak or mismatched key, and for a key without the method', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.deepEqual(problemsOf(base), ['LATCH_CLIENT_PRIVATE_KEY']);
    assert.deepEqual(problemsOf({ ...base, LATCH_CLIENT_PRIVATE_KEY: 'not a key' }), ['LATCH_CLIENT_PRIVATE_KEY']);
    assert.deepEqual(problemsOf({ ...base, LATCH_CLIENT_PRIVATE_KEY: publicKey.export({ format: 'pem', type: 'spki' }).toString() }), ['LATCH_CLIENT_PRIVATE_KEY']);
    assert.deepEqual(problemsOf({ ...base, LATCH_CLIENT_PRIVATE_KEY: pem('rsa', 1024) }), ['LATCH_CLIENT_PRIVATE_KEY']);
    assert.deepEqual(problemsOf({ ...base, LATCH_CLIENT_PRIVATE_KEY: JSON.stringify({ ...privateKey.export({ format: 'jwk' }), alg: 'RS256' }) }), ['LATCH_CLIENT_PRIVATE_KEY']);
    assert.deepEqual(problemsOf({ ...base, LATCH_CLIENT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' }), ['LATCH_CLIENT_PRIVATE_KEY_FILE']);
    assert.deepEqual(problemsOf({ ...base, LATCH_CLIENT_PRIVATE_KEY: pem('ec'), LATCH_CLIENT_PRIVATE_KEY_FILE: '/x' }), ['LATCH_CLIENT_PRIVATE_KEY_FILE']);
    assert.deepEqual(problemsOf({ ...base, LATCH_TOKEN_AUTH_METHOD: 'client_secret_basic', LATCH_CLIENT_PRIVATE_KEY: pem('ec') }), ['LATCH_CLIENT_PRIVATE_KEY']);
    let message = '';
    try {
      loadConfig({ ...base, LATCH_CLIENT_PRIVATE_KEY: pem('rsa', 1024) });
    } catch (err) {
      message = String(err);
    }
    assert.doesNotMatch(message, /BEGIN|PRIVATE KEY-----|[A-Za-z0-9+/]{40}/, 'no key material in the message');
  });
});

/**
 * DPoP on the resource side (bff/resource/dpop.ts, through requireToken): tokens bound to a key
 * (`cnf.jkt`) signed by an issuer of our own on loopback, proofs made by the BFF's own proof code
 * (bff/oauth/dpop.ts) or forged by hand, each API a Koa app answered in memory. The end-to-end path
 * (oidc-provider, the BFF, an upstream guarded by requireToken) is test/bff/oauth/dpop.test.ts.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import { accessTokenHash, dpopProof, newDpopKey, type DpopKey } from '../../../bff/oauth/dpop.ts';
import { requireToken, type RequireTokenOptions } from '../../../bff/resource/require-token.ts';
import type { AccessTokenError } from '../../../bff/resource/verify.ts';
import { inMemory, type InMemory } from '../../helpers/in-memory.ts';
import { closeIssuers, keyedIssuer } from './support.ts';

const API = 'http://127.0.0.1';

after(closeIssuers);

describe('requireToken with DPoP-bound tokens (RFC 9449)', () => {
  let idp: Awaited<ReturnType<typeof keyedIssuer>>;
  let api: InMemory;
  let strict: InMemory;
  const refused: string[] = [];
  let key: DpopKey;
  let jkt: string;

  function serve(options: Partial<RequireTokenOptions> = {}): InMemory {
    const app = new Koa();
    app.silent = true;
    app.use(requireToken({ issuer: idp.issuer, audience: 'https://orders.latch.test', allowInsecureHttp: true, realm: 'orders', onRefused: (err: AccessTokenError) => refused.push(err.reason), ...options }));
    app.use((ctx) => {
      ctx.body = { sub: ctx.state['accessToken'].claims.sub };
    });
    return inMemory(app, { url: API });
  }

  before(async () => {
    idp = await keyedIssuer();
    api = serve();
    strict = serve({ dpop: 'required' });
    key = newDpopKey();
    jkt = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: key.x, y: key.y });
  });

  // A jti of its own: RS256 is deterministic, and two tokens signed in the same second would be one.
  const bound = () => idp.sign({ cnf: { jkt }, jti: crypto.randomUUID() });
  const last = () => refused[refused.length - 1];

  async function call(target: InMemory, path: string, headers: Record<string, string>, method = 'GET') {
    const res = await target.fetch(path, { method, headers });
    const body = (await res.json()) as { error?: string; sub?: string };
    return { status: res.status, error: body.error, sub: body.sub, challenge: res.headers.get('www-authenticate') ?? '' };
  }

  it('accepts a bound token with the DPoP scheme and a valid proof made by the BFF\'s proof code', async () => {
    const token = await bound();
    const ok = await call(api, '/orders/7?x=1', { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', new URL(`${API}/orders/7?ignored=1`), token) });
    assert.equal(ok.status, 200, JSON.stringify(ok));
    assert.equal(ok.sub, 'user-1');
  });

  it('refuses a bound token presented as Bearer, proof or not (a stolen token is no use without its key)', async () => {
    const token = await bound();
    const plain = await call(api, '/orders', { authorization: `Bearer ${token}` });
    assert.equal(plain.status, 401);
    assert.equal(plain.error, 'invalid_token');
    assert.equal(last(), 'DPoP-bound token presented as Bearer');
    assert.match(plain.challenge, /^DPoP realm="orders", error="invalid_token", .*algs="ES256 PS256 EdDSA Ed25519"$/);
    const withProof = await call(api, '/orders', { authorization: `Bearer ${token}`, dpop: await dpopProof(key, 'GET', new URL(`${API}/orders`), token) });
    assert.equal(withProof.status, 401);
    assert.equal(last(), 'DPoP-bound token presented as Bearer');
  });

  it('refuses the token without a proof, with a proof by another key, and with two proofs', async () => {
    const token = await bound();
    const url = new URL(`${API}/orders`);
    const none = await call(api, '/orders', { authorization: `DPoP ${token}` });
    assert.equal(none.status, 401);
    assert.equal(none.error, 'invalid_dpop_proof');
    assert.match(none.challenge, /^DPoP realm="orders", error="invalid_dpop_proof"/);
    assert.equal(last(), 'no DPoP header');
    const thief = await call(api, '/orders', { authorization: `DPoP ${token}`, dpop: await dpopProof(newDpopKey(), 'GET', url, token) });
    assert.equal(thief.error, 'invalid_dpop_proof');
    assert.equal(last(), 'the key is not the one the token is bound to (cnf.jkt)');
    const res = await api.fetch('/orders', { headers: [['authorization', `DPoP ${token}`], ['dpop', await dpopProof(key, 'GET', url, token)], ['dpop', await dpopProof(key, 'GET', url, token)]] });
    assert.equal(res.status, 401);
    assert.equal(last(), 'more than one DPoP header');
  });

  it('refuses a replayed proof, and a proof made for another URL, method or token', async () => {
    const token = await bound();
    const proof = await dpopProof(key, 'GET', new URL(`${API}/orders/1`), token);
    const auth = { authorization: `DPoP ${token}`, dpop: proof };
    assert.equal((await call(api, '/orders/1', auth)).status, 200);
    const replay = await call(api, '/orders/1', auth);
    assert.equal(replay.status, 401);
    assert.equal(replay.error, 'invalid_dpop_proof');
    assert.equal(last(), 'replayed (jti seen before)');
    assert.equal((await call(api, '/orders/2', auth)).status, 401);
    assert.equal(last(), 'htu is not the request\'s URL');
    assert.equal((await call(api, '/orders/1', auth, 'DELETE')).status, 401);
    assert.equal(last(), 'htm is not the request\'s method');
    const other = await bound();
    const forOther = await call(api, '/orders/3', { authorization: `DPoP ${other}`, dpop: await dpopProof(key, 'GET', new URL(`${API}/orders/3`), token) });
    assert.equal(forOther.status, 401);
    assert.equal(last(), 'ath is not the token\'s hash');
  });

  it('refuses proofs too old, from the future, mistyped, unsigned, HMAC-signed or carrying a private key', async () => {
    const token = await bound();
    const now = Math.floor(Date.now() / 1000);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { kty: 'EC', crv: 'P-256', x: key.x, y: key.y };
    const claims = (extra: Record<string, unknown> = {}) => ({ htm: 'GET', htu: `${API}/orders`, jti: crypto.randomUUID(), iat: now, ath: accessTokenHash(token), ...extra });
    const sign = async (payload: Record<string, unknown>, header: Record<string, unknown> = {}) => {
      const cryptoKey = await globalThis.crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: key.x, y: key.y, d: key.d }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
      return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header }).sign(cryptoKey);
    };
    const attempt = async (proof: string) => {
      const res = await call(api, '/orders', { authorization: `DPoP ${token}`, dpop: proof });
      assert.equal(res.status, 401, last());
      assert.equal(res.error, 'invalid_dpop_proof');
      return last();
    };
    assert.equal(await attempt(await sign(claims({ iat: now - 120 }))), 'too old');
    assert.equal(await attempt(await sign(claims({ iat: now + 120 }))), 'iat in the future');
    assert.equal(await attempt(await sign(claims(), { typ: 'JWT' })), 'signature, typ or alg');
    assert.equal(await attempt(await sign(claims({ jti: undefined }))), 'no usable jti');
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    assert.equal(await attempt(`${b64({ alg: 'none', typ: 'dpop+jwt', jwk })}.${b64(claims())}.`), 'signature, typ or alg');
    const hmac = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk }).sign(new Uint8Array(32));
    assert.equal(await attempt(hmac), 'signature, typ or alg');
    const privateJwk = privateKey.export({ format: 'jwk' });
    const withPrivate = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: privateJwk as never }).sign(privateKey);
    assert.equal(await attempt(withPrivate), 'signature, typ or alg');
    assert.equal(await attempt('x'.repeat(5000)), 'too large');
  });

  it('refuses an unbound token with the DPoP scheme, and (dpop: required) any Bearer token', async () => {
    const unbound = await idp.sign();
    const res = await call(api, '/orders', { authorization: `DPoP ${unbound}`, dpop: await dpopProof(key, 'GET', new URL(`${API}/orders`), unbound) });
    assert.equal(res.status, 401);
    assert.equal(last(), 'DPoP scheme, unbound token');
    assert.equal((await call(api, '/orders', { authorization: `Bearer ${unbound}` })).status, 200, 'allowed (the default): Bearer for unbound tokens');
    const bearer = await call(strict, '/orders', { authorization: `Bearer ${unbound}` });
    assert.equal(bearer.status, 401);
    assert.equal(last(), 'Bearer where DPoP is required');
    assert.match(bearer.challenge, /^DPoP /);
    assert.equal((await call(strict, '/orders', {})).challenge, 'DPoP realm="orders", algs="ES256 PS256 EdDSA Ed25519"');
  });

  it('checks htu against publicOrigin when the API sits behind a proxy that rewrites Host', async () => {
    const behind = serve({ publicOrigin: 'https://api.example.com' });
    const token = await bound();
    const good = await call(behind, '/orders', { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', new URL('https://api.example.com/orders'), token) });
    assert.equal(good.status, 200);
    const local = await call(behind, '/orders', { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', new URL(`${API}/orders`), token) });
    assert.equal(local.status, 401);
    assert.equal(last(), 'htu is not the request\'s URL');
  });
});

/**
 * requireToken (bff/resource/require-token.ts), the middleware that guards a microsite's own API: each
 * API a Koa app answered in memory, its keys fetched from a real server (oidc-provider's JWT access
 * tokens, RFC 9068, or an issuer of our own on loopback). verifyAccessToken without a framework:
 * verify.test.ts.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import type { JWK, JWTPayload } from 'jose';
import { createServiceTokens } from '../../../bff/oauth/service-token.ts';
import { requireToken, type RequireTokenOptions } from '../../../bff/resource/require-token.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { inMemory, type InMemory } from '../../helpers/in-memory.ts';
import { freePort } from '../../helpers/net.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { closeIssuers, keyedIssuer, RESOURCE } from './support.ts';

/** An API protected by requireToken, answered in memory; it answers the verified token. */
function serveApi(options: RequireTokenOptions): InMemory {
  const app = new Koa();
  app.silent = true;
  app.use(requireToken(options));
  app.use((ctx) => {
    ctx.body = ctx.state['accessToken'];
  });
  return inMemory(app);
}

interface Answer {
  status: number;
  error?: string;
  challenge: string | null;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(api: InMemory, token?: string, path = '/orders', extra: Record<string, string> = {}): Promise<Answer> {
  const res = await api.fetch(path, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra } });
  const body = (await res.json()) as Record<string, unknown>;
  return {
    status: res.status,
    ...(typeof body['error'] === 'string' ? { error: body['error'] } : {}),
    challenge: res.headers.get('www-authenticate'),
    body,
    headers: res.headers,
  };
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const parts = (jwt: string) => jwt.split('.') as [string, string, string];

after(closeIssuers);

describe('requireToken against oidc-provider JWT access tokens (RFC 9068)', () => {
  let stack: Stack;
  let userToken: string;
  let idToken: string;
  let serviceToken: string;
  let jwksUri: string;
  let api: InMemory;

  before(async () => {
    stack = await startStack({
      provider: { jwtAccessTokens: { resource: RESOURCE, scopes: ['orders:read', 'orders:write'] } },
      env: { LATCH_SCOPES: 'openid profile email offline_access orders:read' },
    });
    const client = new HttpClient();
    await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
    const read = await stack.app.latch.sites.all[0]!.cookies.read(await client.jar.getCookieString(stack.bffUrl));
    assert.ok(read?.session.idt);
    userToken = read.session.at;
    idToken = read.session.idt;
    const service = await createServiceTokens(stack.app.latch.provider).getServiceToken({ scope: 'orders:read orders:write', audience: RESOURCE });
    serviceToken = service.accessToken;
    jwksUri = `${stack.provider.issuer}/jwks`;
    api = await serveApi({ issuer: stack.provider.issuer, audience: RESOURCE, scopes: ['orders:read'], realm: 'orders', allowInsecureHttp: true });
  });
  after(() => stack.close());

  it("accepts the user's access token and hands its claims and scopes on", async () => {
    const res = await call(api, userToken);
    assert.equal(res.status, 200);
    const claims = res.body['claims'] as JWTPayload;
    assert.equal(claims.sub, stack.provider.users[0]!.sub);
    assert.deepEqual(res.body['scopes'], ['orders:read']);
  });

  it('accepts a client-credentials access token', async () => {
    const res = await call(api, serviceToken);
    assert.equal(res.status, 200);
    assert.equal((res.body['claims'] as JWTPayload)['client_id'], stack.clientId);
  });

  it('answers 401 invalid_token with a WWW-Authenticate challenge for a token meant for another API (aud)', async () => {
    const other = await serveApi({ issuer: stack.provider.issuer, audience: 'https://other.latch.test', realm: 'other', allowInsecureHttp: true });
    const res = await call(other, userToken);
    assert.equal(res.status, 401);
    assert.equal(res.error, 'invalid_token');
    assert.match(res.challenge ?? '', /^Bearer realm="other", error="invalid_token", error_description="[^"]+"$/);
  });

  it('answers 401 invalid_token for a token from another issuer (iss)', async () => {
    const elsewhere = await serveApi({ issuer: 'https://issuer.elsewhere.test', jwksUri, audience: RESOURCE, allowInsecureHttp: true });
    const res = await call(elsewhere, userToken);
    assert.equal(res.status, 401);
    assert.equal(res.error, 'invalid_token');
  });

  it('answers 401 invalid_token for alg none', async () => {
    const [, payload] = parts(userToken);
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64url(JSON.stringify({ alg, typ: 'at+jwt' }))}.${payload}.`;
      const res = await call(api, unsigned);
      assert.equal(res.status, 401, alg);
      assert.equal(res.error, 'invalid_token', alg);
    }
  });

  it("answers 401 invalid_token for HS256 signed with the server's public key", async () => {
    const { keys } = (await (await fetch(jwksUri)).json()) as { keys: JWK[] };
    const jwk = keys[0]!;
    const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const [, payload] = parts(userToken);
    for (const secret of [String(pem), JSON.stringify(jwk), jwk.n!]) {
      const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }));
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      const res = await call(api, `${header}.${payload}.${signature}`);
      assert.equal(res.status, 401);
      assert.equal(res.error, 'invalid_token');
    }
  });

  it('answers 401 invalid_token for a tampered payload', async () => {
    const [header, payload, signature] = parts(userToken);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = b64url(JSON.stringify({ ...claims, scope: 'orders:read orders:write admin' }));
    const res = await call(api, `${header}.${forged}.${signature}`);
    assert.equal(res.status, 401);
    assert.equal(res.error, 'invalid_token');
  });

  it('answers 401 invalid_token for an ID token used as an access token, even where its audience would pass', async () => {
    // An API that (wrongly) also accepts the client id as audience: the ID token's aud and iss check out.
    const lax = await serveApi({ issuer: stack.provider.issuer, audience: [RESOURCE, stack.clientId], allowInsecureHttp: true });
    assert.equal((await call(lax, userToken)).status, 200);
    const res = await call(lax, idToken);
    assert.equal(res.status, 401);
    assert.equal(res.error, 'invalid_token');
  });

  it('answers 403 insufficient_scope, naming the scope, when a required scope is missing', async () => {
    const writer = await serveApi({ issuer: stack.provider.issuer, audience: RESOURCE, scopes: ['orders:write'], realm: 'orders', allowInsecureHttp: true });
    const res = await call(writer, userToken);
    assert.equal(res.status, 403);
    assert.equal(res.error, 'insufficient_scope');
    assert.match(res.challenge ?? '', /error="insufficient_scope"/);
    assert.match(res.challenge ?? '', /scope="orders:write"/);
    assert.equal((await call(writer, serviceToken)).status, 200, 'the service token has orders:write');
  });

  it('answers 401 for a token in the query string, header or not', async () => {
    const inQuery = await call(api, undefined, `/orders?access_token=${userToken}`);
    assert.equal(inQuery.status, 401);
    assert.equal(inQuery.error, 'invalid_request');
    assert.match(inQuery.challenge ?? '', /error="invalid_request"/);
    const both = await call(api, userToken, `/orders?access_token=${userToken}`);
    assert.equal(both.status, 401);
  });

  it('answers 401 with a bare challenge when no token is sent, and for other schemes', async () => {
    const none = await call(api);
    assert.equal(none.status, 401);
    // Both schemes are offered (RFC 9449 section 7.2): the DPoP one with the proof algorithms taken.
    assert.equal(none.challenge, 'Bearer realm="orders", DPoP realm="orders", algs="ES256 PS256 EdDSA Ed25519"');
    const basic = await call(api, undefined, '/orders', { authorization: 'Basic dXNlcjpwYXNz' });
    assert.equal(basic.status, 401);
    const garbage = await call(api, 'not-a-jwt');
    assert.equal(garbage.status, 401);
    assert.equal(garbage.error, 'invalid_token');
  });

  it('fails closed with 503 when the key endpoint is down', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const noJwks = await serveApi({ issuer: stack.provider.issuer, jwksUri: `${dead}/jwks`, audience: RESOURCE, allowInsecureHttp: true, timeoutMs: 1000 });
    const res = await call(noJwks, userToken);
    assert.equal(res.status, 503);
    assert.equal(res.error, 'temporarily_unavailable');
    assert.equal(res.headers.get('retry-after'), '30');
    const noDiscovery = await serveApi({ issuer: dead, audience: RESOURCE, allowInsecureHttp: true, timeoutMs: 1000 });
    assert.equal((await call(noDiscovery, userToken)).status, 503);
  });
});

describe('requireToken with keys of our own', () => {
  let idp: Awaited<ReturnType<typeof keyedIssuer>>;
  let api: InMemory;
  before(async () => {
    idp = await keyedIssuer([['ec', 'ES256'], ['ps', 'PS256']]);
    api = await serveApi({ issuer: idp.issuer, audience: RESOURCE, scopes: ['orders:read'], allowInsecureHttp: true });
  });

  it('answers 401 invalid_token for an expired token, and tolerates a little clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await call(api, await idp.sign({ iat: now - 600, exp: now - 120 }));
    assert.equal(expired.status, 401);
    assert.equal(expired.error, 'invalid_token');
    assert.equal((await call(api, await idp.sign({ iat: now - 600, exp: now - 10 }))).status, 200, 'within the 30 s tolerance');
    const strict = await serveApi({ issuer: idp.issuer, audience: RESOURCE, clockTolerance: 0, allowInsecureHttp: true });
    assert.equal((await call(strict, await idp.sign({ iat: now - 600, exp: now - 10 }))).status, 401);
  });

  it('answers 401 invalid_token for a token not valid yet (nbf)', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await call(api, await idp.sign({ nbf: now + 120 }))).status, 401);
    assert.equal((await call(api, await idp.sign({ nbf: now + 5 }))).status, 200);
  });

  it('answers 401 invalid_token for a token without exp', async () => {
    assert.equal((await call(api, await idp.sign({ exp: undefined }))).status, 401);
  });

  it('reads scopes from scope, scp (string or array) and scopes (array)', async () => {
    const cases: JWTPayload[] = [
      { scope: 'orders:read other' },
      { scope: undefined, scp: 'orders:read other' },
      { scope: undefined, scp: ['orders:read'] },
      { scope: undefined, scopes: ['deploy:applications', 'orders:read'] },
    ];
    for (const claims of cases) assert.equal((await call(api, await idp.sign(claims))).status, 200, JSON.stringify(claims));
    const res = await call(api, await idp.sign({ scope: undefined, scopes: ['orders:write'] }));
    assert.equal(res.status, 403);
    assert.equal(res.error, 'insufficient_scope');
  });

  it('pins algorithms: ES256 and RS256 by default, nothing else unless configured', async () => {
    assert.equal((await call(api, await idp.sign({}, { kid: 'ec' }))).status, 200);
    assert.equal((await call(api, await idp.sign({}, { kid: 'ps' }))).status, 401);
    const ps = await serveApi({ issuer: idp.issuer, audience: RESOURCE, algorithms: ['PS256'], allowInsecureHttp: true });
    assert.equal((await call(ps, await idp.sign({}, { kid: 'ps' }))).status, 200);
    assert.equal((await call(ps, await idp.sign())).status, 401, 'RS256 is not on its list');
  });

  it('refuses symmetric and unsigned algorithms in its options', () => {
    for (const alg of ['HS256', 'HS512', 'none']) {
      assert.throws(() => requireToken({ issuer: idp.issuer, audience: RESOURCE, algorithms: [alg], allowInsecureHttp: true }), TypeError, alg);
    }
    assert.throws(() => requireToken({ issuer: idp.issuer, audience: RESOURCE }), TypeError, 'http:// needs the loud opt-out');
    assert.throws(() => requireToken({ issuer: idp.issuer, audience: [], allowInsecureHttp: true }), TypeError);
  });

  it('tells access tokens from ID tokens and other JWTs by typ and claims', async () => {
    const cases: Array<[string, Promise<string>, number]> = [
      ['at+jwt', idp.sign(), 200],
      ['application/at+jwt', idp.sign({}, { typ: 'application/at+jwt' }), 200],
      ['JWT with scope', idp.sign({}, { typ: 'JWT' }), 200],
      ['untyped with client_id only', idp.sign({ scope: undefined }, { typ: null }), 200],
      ['JWT with a nonce (an ID token)', idp.sign({ nonce: 'n' }, { typ: 'JWT' }), 401],
      ['JWT with at_hash (an ID token)', idp.sign({ at_hash: 'x' }, { typ: 'JWT' }), 401],
      ['JWT without scope or client_id', idp.sign({ scope: undefined, client_id: undefined }, { typ: 'JWT' }), 401],
      ['logout+jwt', idp.sign({}, { typ: 'logout+jwt' }), 401],
    ];
    const anyScope = await serveApi({ issuer: idp.issuer, audience: RESOURCE, allowInsecureHttp: true });
    for (const [what, token, status] of cases) assert.equal((await call(anyScope, await token)).status, status, what);
    const strict = await serveApi({ issuer: idp.issuer, audience: RESOURCE, strictTyp: true, allowInsecureHttp: true });
    assert.equal((await call(strict, await idp.sign({}, { typ: 'JWT' }))).status, 401);
    assert.equal((await call(strict, await idp.sign())).status, 200);
  });

  it('caches the JWKS, and keeps serving from the cache while the key endpoint is down', async () => {
    const fresh = await keyedIssuer();
    const cached = await serveApi({ issuer: fresh.issuer, audience: RESOURCE, allowInsecureHttp: true });
    for (let i = 0; i < 5; i++) assert.equal((await call(cached, await fresh.sign())).status, 200);
    assert.equal(fresh.counts.jwks, 1);
    fresh.setUp(false);
    assert.equal((await call(cached, await fresh.sign())).status, 200);
  });

  it('refetches the JWKS at once for a key rotated in just after a fetch', async () => {
    const rotating = await keyedIssuer();
    const verifier = await serveApi({ issuer: rotating.issuer, audience: RESOURCE, allowInsecureHttp: true });
    assert.equal((await call(verifier, await rotating.sign())).status, 200);
    assert.equal(rotating.counts.jwks, 1);
    // The issuer switches keys right after our fetch: the new kid waits for the next fetch (1 s floor), not 30 s.
    await rotating.addKey('k2');
    assert.equal((await call(verifier, await rotating.sign({}, { kid: 'k2' }))).status, 200);
    assert.equal(rotating.counts.jwks, 2);
  });

  it('bounds a flood of made-up kids to one JWKS fetch a second, and keeps verifying good tokens', async () => {
    const flooded = await keyedIssuer();
    const verifier = await serveApi({ issuer: flooded.issuer, audience: RESOURCE, allowInsecureHttp: true });
    assert.equal((await call(verifier, await flooded.sign())).status, 200);
    await flooded.addKey('real-but-unpublished', 'RS256', false);
    const forged = await flooded.sign({}, { kid: 'real-but-unpublished' });
    // 60 tokens, each with a different unknown kid, in three waves: every one is refused, and the
    // waves share fetches (single flight, at least 1 s apart) instead of making one each.
    const started = Date.now();
    for (let wave = 0; wave < 3; wave++) {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => {
        const [h, p, sig] = forged.split('.') as [string, string, string];
        const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), kid: `made-up-${wave}-${i}` };
        return call(verifier, `${b64url(JSON.stringify(header))}.${p}.${sig}`);
      }));
      assert.deepEqual(answers.map((a) => a.status), Array(20).fill(401));
      assert.ok(answers.every((a) => a.error === 'invalid_token'));
    }
    const seconds = (Date.now() - started) / 1000;
    // Never more than one fetch a second (the floor), whatever the number of tokens: a few, not 60.
    const refetches = flooded.counts.jwks - 1;
    assert.ok(refetches >= 1, 'a miss does refetch');
    assert.ok(refetches <= Math.ceil(seconds) + 1, `${refetches} fetches in ${seconds} s`);
    assert.ok(refetches <= 6, `${refetches} fetches for 60 made-up kids`);
    // A good token is still served from the cache, at once.
    const before = flooded.counts.jwks;
    assert.equal((await call(verifier, await flooded.sign())).status, 200);
    assert.equal(flooded.counts.jwks, before);
  });

});

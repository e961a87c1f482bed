/**
 * DPoP end to end (bff/oauth/dpop.ts): a real oidc-provider that requires DPoP of the BFF's client
 * (`dpop_bound_access_tokens`) and a server nonce at its token and userinfo endpoints, the BFF with
 * LATCH_DPOP=true, and upstream APIs on loopback: one guarded by requireToken (dpop: 'required'), one
 * that records what it gets and asks for nonces. Attacks go as raw requests with what was captured.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { IncomingHttpHeaders } from 'node:http';
import Koa from 'koa';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import { accessTokenHash, currentNonce, dpopProof, newDpopKey, rememberedNonces, rememberNonce } from '../../../bff/oauth/dpop.ts';
import { requireToken } from '../../../bff/resource/require-token.ts';
import type { AccessTokenError } from '../../../bff/resource/verify.ts';
import type { Session } from '../../../bff/session/session.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { listen, type Listening } from '../../helpers/net.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { errorCode } from '../../security/support.ts';
import { patchedSessionCookie, raw, sessionFrom, signedIn as signedInAt, startUpstream } from '../routes/proxy-support.ts';

const RESOURCE = 'https://orders.latch.test';
const SCOPES = 'openid profile email offline_access orders:read';

const thumbprint = (session: Session) => calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: session.dk!.x, y: session.dk!.y });

describe('DPoP against oidc-provider that requires it, with nonces', () => {
  let stack: Stack;
  let guarded: Listening;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  /** What the guarded API received, and why it refused what it refused. */
  const received: IncomingHttpHeaders[] = [];
  const refused: string[] = [];
  const api = () => ({ origin: stack.siteOrigin, 'latch-csrf': '1' });

  before(async () => {
    upstream = await startUpstream();
    let guard: Koa | undefined;
    guarded = await listen((req, res) => {
      received.push(req.headers);
      return guard ? guard.callback()(req, res) : res.writeHead(503).end();
    });
    stack = await startStack({
      provider: { jwtAccessTokens: { resource: RESOURCE, scopes: ['orders:read'] }, dpop: { nonce: true } },
      client: { dpop_bound_access_tokens: true },
      env: { LATCH_DPOP: 'true', LATCH_SCOPES: SCOPES, LATCH_API_ROUTES: `orders=${guarded.url},echo=${upstream.server.url}` },
    });
    guard = new Koa();
    guard.silent = true;
    guard.use(requireToken({
      issuer: stack.provider.issuer, audience: RESOURCE, scopes: ['orders:read'], dpop: 'required', allowInsecureHttp: true,
      onRefused: (err: AccessTokenError) => refused.push(err.reason),
    }));
    guard.use((ctx) => {
      ctx.body = { sub: ctx.state['accessToken'].claims.sub, path: ctx.path };
    });
  });
  after(async () => {
    await stack.close();
    await guarded.close();
    await upstream.server.close();
  });
  beforeEach(() => upstream.reset());

  const signedIn = () => signedInAt(stack);

  it('signs in: one nonce challenge at the token endpoint, one retry, and a token bound to the session\'s own key', async () => {
    stack.provider.resetCounts();
    const { session } = await signedIn();
    assert.equal(stack.provider.counts.tokenByGrant['authorization_code'], 2, 'refused once for its nonce, then granted');
    assert.ok(session.dk, 'the session holds its DPoP key');
    const claims = decodeJwt(session.at) as { cnf?: { jkt?: string } };
    assert.equal(claims.cnf?.jkt, await thumbprint(session));
    const second = await signedIn();
    assert.notEqual(second.session.dk!.d, session.dk!.d, 'a key per session');
    assert.equal(stack.provider.counts.tokenByGrant['authorization_code'], 3, 'the nonce is remembered for the next sign-in');
  });

  it('proxies with Authorization: DPoP and a fresh proof per request (htm, htu, ath), never Bearer', async () => {
    const { cookie, session } = await signedIn();
    received.length = 0;
    for (const path of ['/orders/1', '/orders/1']) {
      const res = await fetch(`${stack.bffUrl}/api/orders${path}?q=1`, { headers: { ...api(), cookie } });
      assert.equal(res.status, 200, `${await res.clone().text()} ${refused.join(', ')}`);
    }
    assert.equal(received.length, 2);
    const [a, b] = received as [IncomingHttpHeaders, IncomingHttpHeaders];
    assert.equal(a.authorization, `DPoP ${session.at}`);
    assert.notEqual(a.dpop, b.dpop, 'a new proof each time');
    const proof = decodeJwt(a.dpop as string);
    assert.equal(proof['htm'], 'GET');
    assert.equal(proof['htu'], `${guarded.url}/orders/1`);
    assert.equal(proof['ath'], accessTokenHash(session.at));
    const header = decodeProtectedHeader(a.dpop as string);
    assert.equal(header.typ, 'dpop+jwt');
    assert.equal(header.alg, 'ES256');
    assert.equal((header.jwk as { d?: string }).d, undefined, 'the private key never leaves');
  });

  it('a stolen token fails without its key: as Bearer, without a proof, with another key\'s proof, with a replayed proof, for another URL or method', async () => {
    const { cookie, session } = await signedIn();
    received.length = 0;
    assert.equal((await fetch(`${stack.bffUrl}/api/orders/mine`, { headers: { ...api(), cookie } })).status, 200);
    const sent = received[0]!;
    const port = Number(new URL(guarded.url).port);
    const attempt = async (path: string, headers: Record<string, string>, method = 'GET') => {
      const res = await raw(port, path, { method, headers });
      assert.equal(res.status, 401, res.text);
      return { reason: refused[refused.length - 1], challenge: String(res.headers['www-authenticate']) };
    };
    const bearer = await attempt('/mine', { authorization: `Bearer ${session.at}` });
    assert.equal(bearer.reason, 'DPoP-bound token presented as Bearer');
    assert.match(bearer.challenge, /^DPoP error="invalid_token"/);
    assert.equal((await attempt('/mine', { authorization: `DPoP ${session.at}` })).reason, 'no DPoP header');
    const thief = await dpopProof(newDpopKey(), 'GET', new URL(`${guarded.url}/mine`), session.at);
    assert.equal((await attempt('/mine', { authorization: `DPoP ${session.at}`, dpop: thief })).reason, 'the key is not the one the token is bound to (cnf.jkt)');
    const replayed = { authorization: sent.authorization as string, dpop: sent.dpop as string };
    const replay = await attempt('/mine', replayed);
    assert.equal(replay.reason, 'replayed (jti seen before)');
    assert.match(replay.challenge, /^DPoP error="invalid_dpop_proof"/);
    assert.equal((await attempt('/other', replayed)).reason, 'htu is not the request\'s URL');
    assert.equal((await attempt('/mine', replayed, 'DELETE')).reason, 'htm is not the request\'s method');
  });

  it('refreshes with a proof: the new token is bound to the same key, and the call goes through', async () => {
    const { cookie, session } = await signedIn();
    const { cookie: expired } = await patchedSessionCookie(stack.app, cookie, { atExp: Date.now() - 1000 });
    stack.provider.resetCounts();
    const res = await fetch(`${stack.bffUrl}/api/orders/after-refresh`, { headers: { ...api(), cookie: expired } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1, 'the nonce is remembered: no second try');
    const fresh = await sessionFrom(stack.app, res.headers.getSetCookie());
    assert.ok(fresh);
    assert.notEqual(fresh.at, session.at);
    assert.deepEqual(fresh.dk, session.dk);
    assert.equal((decodeJwt(fresh.at) as { cnf?: { jkt?: string } }).cnf?.jkt, await thumbprint(session));
  });

  it('answers an upstream\'s nonce challenge with one retry, and uses the nonce from then on', async () => {
    const { cookie } = await signedIn();
    const nonce = 'n-1';
    upstream.setHandler((req, res) => {
      const proof = decodeJwt(String(req.headers.dpop));
      if (proof['nonce'] !== nonce) {
        res.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="nonce required"', 'dpop-nonce': nonce }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const body = JSON.stringify({ qty: 1 });
    const first = await fetch(`${stack.bffUrl}/api/echo/orders`, { method: 'POST', headers: { ...api(), cookie, 'content-type': 'application/json' }, body });
    assert.equal(first.status, 200);
    assert.equal(upstream.seen.length, 2, 'one challenge, one retry');
    assert.equal(decodeJwt(String(upstream.seen[1]!.headers.dpop))['nonce'], nonce);
    assert.notEqual(upstream.seen[0]!.headers.dpop, upstream.seen[1]!.headers.dpop, 'a new proof for the retry');
    assert.equal((await fetch(`${stack.bffUrl}/api/echo/orders`, { headers: { ...api(), cookie } })).status, 200);
    assert.equal(upstream.seen.length, 3, 'the nonce is remembered');
  });

  it('stops after one retry when an upstream asks for a new nonce every time, and refreshes nothing for it', async () => {
    const { cookie } = await signedIn();
    let n = 0;
    upstream.setHandler((_req, res) => {
      n += 1;
      res.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': `loop-${n}` }).end();
    });
    stack.provider.resetCounts();
    const res = await fetch(`${stack.bffUrl}/api/echo/loop`, { headers: { ...api(), cookie } });
    assert.equal(res.status, 401);
    assert.equal(upstream.seen.length, 2, 'the first try and one retry');
    assert.equal(stack.provider.counts.token, 0, 'a nonce challenge is no reason to refresh');
  });

  it('keeps the nonce cache bounded, and ignores malformed or oversized nonces', () => {
    const url = new URL('http://127.0.0.1:1/x');
    rememberNonce(url, 'good');
    rememberNonce(url, 'with "quote"');
    rememberNonce(url, 'x'.repeat(600));
    rememberNonce(url, ['a', 'b']);
    assert.equal(currentNonce(url), 'good');
    for (let i = 0; i < 400; i += 1) rememberNonce(new URL(`http://h${i}.latch.test/`), `n${i}`);
    assert.ok(rememberedNonces() <= 256, `${rememberedNonces()} origins remembered`);
  });
});

describe('DPoP asked for, and a server that ignores it', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ provider: { dpop: { enabled: false } }, env: { LATCH_DPOP: 'true' } });
  });
  after(() => stack.close());

  it('refuses the Bearer token it answers (502 LATCH_TOKEN_TYPE_UNSUPPORTED), and signs no one in', async () => {
    const client = new HttpClient();
    const { callbackResult } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${stack.siteOrigin}/`)}`, stack.user);
    assert.ok(callbackResult);
    assert.equal(callbackResult.status, 502, callbackResult.text.slice(0, 300));
    assert.equal(errorCode(callbackResult), 'LATCH_TOKEN_TYPE_UNSUPPORTED');
    assert.equal(callbackResult.setCookies.some((c) => /^__Host-latch=|^latch=[^;]/.test(c)), false, 'no session cookie');
    assert.equal(stack.provider.counts.userinfo, 0, 'the token was sent nowhere');
  });
});

describe('DPoP with server-side sessions (LATCH_SESSION_STORE=memory)', () => {
  let stack: Stack;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  before(async () => {
    upstream = await startUpstream();
    stack = await startStack({
      client: { dpop_bound_access_tokens: true },
      env: { LATCH_DPOP: 'true', LATCH_SESSION_STORE: 'memory', LATCH_API_ROUTES: `echo=${upstream.server.url}` },
    });
  });
  after(async () => {
    await stack.close();
    await upstream.server.close();
  });

  it('keeps the key in the store, not in the cookie, and proxies with it', async () => {
    const { cookie, session } = await signedInAt(stack);
    assert.ok(session.dk, 'the session read from the store holds the key');
    assert.ok(!cookie.includes(session.dk.d), 'the cookie is a reference, not the key');
    assert.ok(cookie.length < 600, `a reference cookie (${cookie.length} bytes)`);
    const res = await fetch(`${stack.bffUrl}/api/echo/x`, { headers: { origin: stack.siteOrigin, 'latch-csrf': '1', cookie } });
    assert.equal(res.status, 200);
    assert.equal(upstream.seen[0]!.headers.authorization, `DPoP ${session.at}`);
    assert.equal(decodeJwt(String(upstream.seen[0]!.headers.dpop))['ath'], accessTokenHash(session.at));
  });
});

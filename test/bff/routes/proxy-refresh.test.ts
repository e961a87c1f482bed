import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { RequestListener } from 'node:http';
import { DEMO_API_RESOURCE, DEMO_API_SCOPE, demoApiApp } from '../../../dev/demo-api.ts';
import { freePort, listen, type Listening } from '../../helpers/net.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';
import { cookiePairs, patchedSessionCookie, sessionFrom, signedIn as signedInAt, startUpstream } from './proxy-support.ts';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

/** An upstream that answers 401 to the tokens in `refused` and echoes everything else. */
function refusing(upstream: Upstream, refused: (token: string) => boolean) {
  upstream.setHandler((req, res, seen) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.body = Buffer.concat(chunks);
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (refused(token)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' });
        res.end('{"error":"invalid_token"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bytes: seen.body.length }));
    });
  });
}

const bearer = (upstream: Upstream, i: number) => (upstream.seen[i]?.headers.authorization ?? '').replace(/^Bearer /, '');

describe('the /api proxy: tokens and refresh', () => {
  let stack: Stack;
  let upstream: Upstream;
  let demoApi: Listening;
  let api: Record<string, string>;

  before(async () => {
    upstream = await startUpstream();
    // The demo API needs the provider's issuer, the stack needs the demo API's URL: listen first, serve later.
    let demoApp: RequestListener | undefined;
    demoApi = await listen((req, res) => (demoApp ? demoApp(req, res) : res.writeHead(503).end()));
    stack = await startStack({
      provider: { jwtAccessTokens: { resource: DEMO_API_RESOURCE, scopes: [DEMO_API_SCOPE, 'demo:write'] } },
      env: {
        LATCH_API_ROUTES: `echo=${upstream.server.url},svc=${upstream.server.url}/svc,demo=${demoApi.url},down=http://127.0.0.1:${await freePort()}`,
        LATCH_API_ROUTE_DEMO_SCOPE: DEMO_API_SCOPE,
        LATCH_API_ROUTE_SVC_TOKEN: 'service',
        LATCH_API_ROUTE_SVC_SCOPE: 'demo:write',
        LATCH_API_ROUTE_SVC_AUDIENCE: DEMO_API_RESOURCE,
      },
    });
    demoApp = demoApiApp(stack.provider.issuer).callback();
    api = { origin: stack.siteOrigin, 'latch-csrf': '1' };
  });
  after(async () => {
    await stack.close();
    await upstream.server.close();
    await demoApi.close();
  });
  beforeEach(() => upstream.reset());

  const signedIn = () => signedInAt(stack);

  it('reaches the demo API, which checks the user token with requireToken', async () => {
    const { cookie } = await signedIn();
    const res = await fetch(`${stack.bffUrl}/api/demo/hello`, { headers: { ...api, cookie } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { sub: string; scopes: string[]; audience: string };
    assert.equal(body.sub, stack.provider.users[0]!.sub);
    assert.ok(body.scopes.includes(DEMO_API_SCOPE));
    assert.equal(body.audience, DEMO_API_RESOURCE);
    const direct = await fetch(`${demoApi.url}/hello`);
    assert.equal(direct.status, 401, 'the demo API refuses a call without a token');
  });

  it('refreshes an expired access token once for 50 concurrent calls, and all 50 succeed', async () => {
    const { cookie } = await signedIn();
    const { cookie: expired, session: old } = await patchedSessionCookie(stack.app, cookie, { atExp: Date.now() - 1000 });
    stack.provider.resetCounts();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${stack.bffUrl}/api/demo/hello`, { headers: { ...api, cookie: expired } })),
    );
    const statuses = results.map((r) => r.status);
    assert.deepEqual(statuses, Array(50).fill(200), JSON.stringify(await Promise.all(results.map((r) => r.text()))).slice(0, 500));
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1, 'one refresh at the provider');
    assert.equal(stack.provider.counts.token, 1);

    const fresh = await sessionFrom(stack.app, results[0]!.headers.getSetCookie());
    assert.ok(fresh, 'the answer carries the resealed session');
    assert.notEqual(fresh.at, old.at);
    assert.ok(fresh.atExp > Date.now() + 60_000);

    // The next call, with the new cookie, uses the new token without refreshing.
    const next = await fetch(`${stack.bffUrl}/api/echo/next`, { headers: { ...api, cookie: cookiePairs(results[0]!.headers.getSetCookie()) } });
    assert.equal(next.status, 200);
    assert.equal(bearer(upstream, 0), fresh.at);
    assert.equal(stack.provider.counts.token, 1);
  });

  it('refreshes once and retries once, with the same body, when the upstream answers 401 to a token that should be valid', async () => {
    const { cookie, session } = await signedIn();
    refusing(upstream, (token) => token === session.at);
    stack.provider.resetCounts();
    const res = await fetch(`${stack.bffUrl}/api/echo/orders`, {
      method: 'POST',
      headers: { ...api, cookie, 'content-type': 'application/json' },
      body: '{"qty":3}',
    });
    assert.equal(res.status, 200);
    assert.equal(upstream.seen.length, 2, 'the call was retried once');
    assert.equal(bearer(upstream, 0), session.at);
    assert.notEqual(bearer(upstream, 1), session.at);
    assert.deepEqual(upstream.seen.map((s) => s.body.toString()), ['{"qty":3}', '{"qty":3}']);
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
    const fresh = await sessionFrom(stack.app, res.headers.getSetCookie());
    assert.equal(fresh?.at, bearer(upstream, 1), 'the cookie carries the token that worked');
  });

  it('does not refresh again when the upstream refuses a token it has just refreshed', async () => {
    const { cookie } = await signedIn();
    const { cookie: expired } = await patchedSessionCookie(stack.app, cookie, { atExp: Date.now() - 1000 });
    refusing(upstream, () => true);
    stack.provider.resetCounts();
    const res = await fetch(`${stack.bffUrl}/api/echo/x`, { headers: { ...api, cookie: expired } });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'invalid_token' }, "the upstream's answer");
    assert.equal(res.headers.get('www-authenticate'), null, "the upstream's challenge is not the browser's business");
    assert.equal(upstream.seen.length, 1);
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
  });

  it('passes the 401 on for a streamed body, and renews the token for the next call', async () => {
    const { cookie, session } = await signedIn();
    refusing(upstream, (token) => token === session.at);
    stack.provider.resetCounts();
    const big = randomBytes(200 * 1024);
    const res = await fetch(`${stack.bffUrl}/api/echo/upload`, { method: 'PUT', headers: { ...api, cookie }, body: big });
    assert.equal(res.status, 401, 'a body already streamed upstream is not sent twice');
    assert.equal(upstream.seen.length, 1);
    assert.equal(upstream.seen[0]!.body.length, big.length);
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
    const renewed = res.headers.getSetCookie();
    const fresh = await sessionFrom(stack.app, renewed);
    assert.ok(fresh && fresh.at !== session.at, 'the cookie carries a renewed token');

    const again = await fetch(`${stack.bffUrl}/api/echo/upload`, { method: 'PUT', headers: { ...api, cookie: cookiePairs(renewed) }, body: big });
    assert.equal(again.status, 200);
    assert.equal(bearer(upstream, 1), fresh.at);
  });

  it('keeps the refreshed tokens in the cookie when the upstream then fails', async () => {
    const { cookie } = await signedIn();
    const { cookie: expired, session: old } = await patchedSessionCookie(stack.app, cookie, { atExp: Date.now() - 1000 });
    stack.provider.resetCounts();
    const res = await fetch(`${stack.bffUrl}/api/down/x`, { headers: { ...api, cookie: expired } });
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_UPSTREAM_UNAVAILABLE');
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
    const fresh = await sessionFrom(stack.app, res.headers.getSetCookie());
    assert.ok(fresh && fresh.at !== old.at && fresh.rt !== old.rt, 'the rotated refresh token is not lost');
  });

  it('clears the session and answers 401 LATCH_SESSION_EXPIRED when the refresh is refused with invalid_grant', async () => {
    const { cookie, session } = await signedIn();
    assert.ok(session.rt);
    const revoked = await fetch(`${stack.provider.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${stack.clientId}:${stack.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: session.rt, token_type_hint: 'refresh_token' }),
    });
    assert.equal(revoked.status, 200);
    const { cookie: expired } = await patchedSessionCookie(stack.app, cookie, { atExp: Date.now() - 1000 });
    stack.provider.resetCounts();
    const res = await fetch(`${stack.bffUrl}/api/echo/x`, { headers: { ...api, cookie: expired } });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_SESSION_EXPIRED');
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1, 'the refresh was tried');
    const cleared = res.headers.getSetCookie().filter((c) => c.startsWith(`${stack.app.latch.sites.all[0]!.cookies.name}=`));
    assert.ok(cleared.length > 0 && cleared.every((c) => /Max-Age=0/i.test(c)), 'the session cookie is cleared');
    assert.equal(upstream.seen.length, 0, 'nothing was forwarded');
  });

  it('attaches one cached client-credentials token on service routes', async () => {
    const { cookie } = await signedIn();
    stack.provider.resetCounts();
    for (const path of ['a', 'b', 'c']) {
      const res = await fetch(`${stack.bffUrl}/api/svc/${path}`, { headers: { ...api, cookie } });
      assert.equal(res.status, 200);
    }
    assert.deepEqual(upstream.seen.map((s) => s.url), ['/svc/a', '/svc/b', '/svc/c']);
    const token = bearer(upstream, 0);
    assert.equal(bearer(upstream, 2), token);
    const claims = decodeJwt(token);
    assert.equal(claims['client_id'], stack.clientId);
    assert.equal(claims.sub, stack.clientId, 'the app acts as itself, not as the user');
    assert.equal(claims.aud, DEMO_API_RESOURCE);
    assert.equal(claims['scope'], 'demo:write');
    assert.equal(stack.provider.counts.tokenByGrant['client_credentials'], 1);
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], undefined);
  });

  it('fetches a new service token once and retries when the upstream refuses the cached one', async () => {
    const { cookie } = await signedIn();
    assert.equal((await fetch(`${stack.bffUrl}/api/svc/warm`, { headers: { ...api, cookie } })).status, 200);
    const cached = bearer(upstream, 0);
    refusing(upstream, (token) => token === cached);
    stack.provider.resetCounts();
    const res = await fetch(`${stack.bffUrl}/api/svc/x`, { method: 'DELETE', headers: { ...api, cookie } });
    assert.equal(res.status, 200);
    assert.equal(stack.provider.counts.tokenByGrant['client_credentials'], 1);
    assert.notEqual(bearer(upstream, 2), cached);
  });

  it('answers 401 LATCH_UNAUTHENTICATED on service routes too without a session', async () => {
    const res = await fetch(`${stack.bffUrl}/api/svc/x`, { headers: api });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_UNAUTHENTICATED');
    assert.equal(upstream.seen.length, 0);
  });
});

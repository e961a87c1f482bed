/**
 * The BFF's defences, black-box: CSRF on state-changing routes, CORS, security headers and CSP,
 * size limits, the rate limit on /login and /callback, redacted logs, and audit events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Sealer } from '../../bff/session/sealer.ts';
import { HttpClient } from '../helpers/http.ts';
import {
  assertNoSessionSet,
  assertRefused,
  errorCode,
  get,
  loginUrl,
  OTHER_SITE,
  pendingCallback,
  post,
  quickCallback,
  sessionCookieHeader,
  signedIn,
  SITE,
  sleep,
  startSecStack,
  type SecStack,
} from './support.ts';

const EVIL = 'https://evil.example';

describe('CSRF', () => {
  let stack: SecStack;
  let cookie: string;
  before(async () => {
    stack = await startSecStack();
    ({ cookie } = await signedIn(stack));
  });
  after(() => stack.close());

  const logout = (headers: Record<string, string>, c = cookie) => post(`${stack.bffUrl}/logout`, { cookie: c, ...headers });
  const alive = async (c = cookie) => (await get(`${stack.bffUrl}/me`, { cookie: c })).status;

  const refused: Array<[string, Record<string, string>, string]> = [
    ['no Latch-CSRF header', { origin: SITE }, 'LATCH_CSRF'],
    ['Latch-CSRF: 0', { origin: SITE, 'latch-csrf': '0' }, 'LATCH_CSRF'],
    ['Latch-CSRF: true', { origin: SITE, 'latch-csrf': 'true' }, 'LATCH_CSRF'],
    ['a cross-site form post (no header)', { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' }, 'LATCH_CSRF'],
    ['the header from another origin', { origin: EVIL, 'latch-csrf': '1' }, 'LATCH_ORIGIN_NOT_ALLOWED'],
    ['the header from a look-alike origin', { origin: 'http://www.latch.test:8080.evil.example', 'latch-csrf': '1' }, 'LATCH_ORIGIN_NOT_ALLOWED'],
    ['the header from Origin: null (sandboxed frame, data: URL)', { origin: 'null', 'latch-csrf': '1' }, 'LATCH_ORIGIN_NOT_ALLOWED'],
    ['the header without Origin, Sec-Fetch-Site: cross-site', { 'latch-csrf': '1', 'sec-fetch-site': 'cross-site' }, 'LATCH_ORIGIN_NOT_ALLOWED'],
    ['the header without Origin nor Sec-Fetch-Site', { 'latch-csrf': '1' }, 'LATCH_ORIGIN_NOT_ALLOWED'],
  ];
  for (const [name, headers, code] of refused) {
    it(`refuses POST /logout with ${name} (403 ${code}); the session lives on`, async () => {
      assertRefused(await logout(headers), 403, code, name);
      assert.equal(await alive(), 200);
    });
  }

  it('refuses the API proxy without the header (403 LATCH_CSRF)', async () => {
    assertRefused(await post(`${stack.bffUrl}/api/orders/1`, { cookie, origin: SITE }), 403, 'LATCH_CSRF', 'proxy');
  });

  it('never changes state on GET: GET /logout is 405 and the session lives on', async () => {
    const res = await get(`${stack.bffUrl}/logout`, { cookie, origin: SITE });
    assert.equal(res.status, 405);
    assert.equal(await alive(), 200);
  });

  it('accepts the header with Sec-Fetch-Site: same-site and no Origin, and ends the session everywhere its cookie goes', async () => {
    const { cookie: own } = await signedIn(stack);
    const res = await logout({ 'latch-csrf': '1', 'sec-fetch-site': 'same-site' }, own);
    assert.equal(res.status, 200);
    // A copy of the cookie (say, stolen before the logout) is refused too: its id is deny-listed.
    assert.equal(await alive(own), 401);
  });

  it('signs out everywhere with POST /logout?everywhere=1: every session of the user ends, other users\' do not', async () => {
    const a = await signedIn(stack, 1);
    const b = await signedIn(stack, 1);
    const res = await post(`${stack.bffUrl}/logout?everywhere=1`, { cookie: a.cookie, origin: SITE, 'latch-csrf': '1' });
    assert.equal(res.status, 200);
    assert.equal(await alive(a.cookie), 401);
    assert.equal(await alive(b.cookie), 401);
    assert.equal(await alive(), 200, 'another user is not affected');
    const event = stack.bff.audits.find((e) => e.type === 'logout' && e.everywhere);
    assert.ok(event && event.type === 'logout' && event.sub === 'user-erin');
  });
});

describe('CORS', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack();
  });
  after(() => stack.close());

  const preflight = (origin: string, method: string, headers = '') =>
    new HttpClient().request(`${stack.bffUrl}/logout`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, ...(headers ? { 'access-control-request-headers': headers } : {}) },
    });

  it('echoes each allowed origin exactly, with credentials and Vary: Origin', async () => {
    for (const origin of [SITE, OTHER_SITE]) {
      const res = await get(`${stack.bffUrl}/me`, { origin });
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.match(res.headers.get('vary') ?? '', /Origin/i);
    }
  });

  it('gives other origins (look-alikes, null, other ports or schemes) no CORS headers', async () => {
    for (const origin of [EVIL, 'null', 'http://www.latch.test:8081', 'https://www.latch.test:8080', 'http://www.latch.test:8080.evil.example', `${SITE}/`]) {
      const res = await get(`${stack.bffUrl}/me`, { origin });
      assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
      assert.equal(res.headers.get('access-control-allow-credentials'), null, origin);
    }
  });

  it('approves a preflight for an allowed method and headers', async () => {
    const res = await preflight(SITE, 'POST', 'latch-csrf, content-type');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), SITE);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /latch-csrf/);
  });

  for (const method of ['TRACE', 'CONNECT', 'T', 'POST, PUT', 'PROPFIND']) {
    it(`refuses a preflight for the method "${method}"`, async () => {
      const res = await preflight(SITE, method);
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('access-control-allow-methods'), null);
    });
  }

  for (const header of ['authorization', 'x-evil', 'cookie', 'latch-csrf, x-forwarded-for']) {
    it(`refuses a preflight asking for the header "${header}"`, async () => {
      const res = await preflight(SITE, 'POST', header);
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('access-control-allow-headers'), null);
    });
  }

  it('refuses a preflight from another origin, without CORS headers', async () => {
    const res = await preflight(EVIL, 'POST', 'latch-csrf');
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('puts CORS headers on error answers to allowed origins, so the widget can read the code', async () => {
    const answers = [
      await get(`${stack.bffUrl}/me`, { origin: SITE }),
      await post(`${stack.bffUrl}/logout`, { origin: SITE }),
      await get(`${stack.bffUrl}/nope`, { origin: SITE }),
      await get(`${stack.bffUrl}/logout`, { origin: SITE }),
    ];
    assert.deepEqual(answers.map((r) => r.status), [401, 403, 404, 405]);
    for (const res of answers) assert.equal(res.headers.get('access-control-allow-origin'), SITE, `${res.status}`);
    assert.deepEqual(answers.slice(0, 3).map((r) => errorCode(r)), ['LATCH_UNAUTHENTICATED', 'LATCH_CSRF', 'LATCH_NOT_FOUND']);
  });
});

describe('hardening', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack({ env: { LATCH_MAX_BODY_BYTES: '2048', LATCH_MAX_HEADER_BYTES: '8192' } });
  });
  after(() => stack.close());

  it('answers no-store, nosniff, no-referrer and DENY framing on every kind of answer', async () => {
    const { client } = await signedIn(stack);
    const answers = [
      await client.request(loginUrl(stack.bffUrl)),
      await client.request(`${stack.bffUrl}/me`),
      await get(`${stack.bffUrl}/me`),
      await get(`${stack.bffUrl}/callback?state=x&code=y`),
      await get(`${stack.bffUrl}/healthz`),
      await get(`${stack.bffUrl}/nope`),
      await post(`${stack.bffUrl}/logout`, { origin: SITE, 'latch-csrf': '1' }),
      await new HttpClient().request(`${stack.bffUrl}/me`, { method: 'OPTIONS', headers: { origin: SITE, 'access-control-request-method': 'GET' } }),
    ];
    for (const res of answers) {
      assert.equal(res.headers.get('cache-control'), 'no-store', `${res.status} ${res.url}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
    }
  });

  it('serves its error page with a CSP that allows no script at all', async () => {
    const res = await get(`${stack.bffUrl}/callback?state=x&code=y`, { accept: 'text/html' });
    assert.equal(res.status, 400);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /script-src/);
    assert.doesNotMatch(res.text, /<script/);
  });

  it('answers an error on a page a browser navigates to with that page, however its path is spelled (/login/ as /login)', async () => {
    const cases = [
      ['/login', '?handoff=x', 'LATCH_HANDOFF_DISABLED'],
      ['/callback', '?state=x&code=y', 'LATCH_STATE_MISMATCH'],
    ] as const;
    for (const [path, query, code] of cases) {
      for (const spelling of [path, `${path}/`]) {
        const res = await get(`${stack.bffUrl}${spelling}${query}`, { accept: 'text/html' });
        assert.equal(res.status, 400, spelling);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/, `${spelling}: an HTML page, not JSON`);
        assert.equal(/data-code="([A-Z_]+)"/.exec(res.text)?.[1], code, spelling);
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      }
    }
    // A page's path with a method no page answers, and the API, still answer JSON.
    assert.equal(errorCode(await post(`${stack.bffUrl}/login/`, { origin: SITE })), 'LATCH_METHOD_NOT_ALLOWED');
    assert.equal(errorCode(await get(`${stack.bffUrl}/me/`)), 'LATCH_UNAUTHENTICATED');
  });

  it('serves the popup result page with a CSP whose only script is the page\'s own, by nonce', async () => {
    const { client } = await signedIn(stack);
    const res = await quickCallback(client, stack.bffUrl, `${SITE}/`, '&mode=popup');
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.equal([...res.text.matchAll(/<script/g)].length, 1);
    assert.ok(res.text.includes(`<script nonce="${nonce}">`));
    assert.ok(res.text.includes(JSON.stringify(SITE)), 'posts to the exact opener origin');
  });

  it('answers a body over LATCH_MAX_BODY_BYTES with 413 LATCH_BODY_TOO_LARGE', async () => {
    const res = await post(`${stack.bffUrl}/logout`, { origin: SITE, 'latch-csrf': '1', 'content-type': 'text/plain' }, 'x'.repeat(4096));
    assertRefused(res, 413, 'LATCH_BODY_TOO_LARGE', 'body');
    assert.equal(res.headers.get('access-control-allow-origin'), SITE);
  });

  it('answers headers over LATCH_MAX_HEADER_BYTES with a coded 431 LATCH_HEADERS_TOO_LARGE, and keeps serving', async () => {
    const res = await get(`${stack.bffUrl}/me`, { origin: SITE, cookie: `pad=${'x'.repeat(10 * 1024)}` });
    assertRefused(res, 431, 'LATCH_HEADERS_TOO_LARGE', 'headers');
    assert.equal(res.headers.get('access-control-allow-origin'), SITE);
    assert.equal((await get(`${stack.bffUrl}/healthz`)).status, 200);
  });
});

describe('rate limit on /login and /callback', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack({ env: { LATCH_RATE_LIMIT: '4', LATCH_RATE_LIMIT_WINDOW: '60' } });
  });
  after(() => stack.close());

  it('answers 429 LATCH_RATE_LIMITED with Retry-After once an IP has used its budget, and spares other routes', async () => {
    const client = new HttpClient();
    for (let i = 0; i < 3; i++) assert.equal((await client.request(loginUrl(stack.bffUrl))).status, 302);
    assert.equal((await get(`${stack.bffUrl}/callback?state=a&code=b`)).status, 400, 'the fourth request (a callback) counts too');
    const limited = await client.request(loginUrl(stack.bffUrl), { headers: { origin: SITE } });
    assertRefused(limited, 429, 'LATCH_RATE_LIMITED', '/login');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(limited.setCookies.length, 0, 'no transaction cookie either');
    assertRefused(await get(`${stack.bffUrl}/callback?state=a&code=b`), 429, 'LATCH_RATE_LIMITED', '/callback');
    assert.equal((await get(`${stack.bffUrl}/me`)).status, 401, '/me is not limited');
    assert.equal((await get(`${stack.bffUrl}/healthz`)).status, 200);
  });
});

describe('logs', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack({ interceptor: true, backchannel: true, provider: { accessTokenTtl: 3 } });
  });
  after(() => stack.close());

  it('never contain a token, a cookie, a code, a verifier or a secret, through a whole session\'s life', async () => {
    const secrets: Array<[string, string]> = [
      ['client secret', stack.clientSecret],
      ['cookie secret', stack.cookieSecret],
      ['password', stack.users[0]!.password],
    ];
    const sealer = new Sealer([stack.cookieSecret]);
    const { client, cookie, callback } = await signedIn(stack);
    const seal = (c: string) => c.split('; ').map((p) => p.slice(p.indexOf('=') + 1));
    for (const v of seal(cookie)) secrets.push(['session cookie', v]);
    const first = (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!.session;
    secrets.push(['access token', first.at], ['refresh token', first.rt!], ['ID token', first.idt!]);
    assert.ok(callback);

    // A second sign-in, watched step by step: its code, state and PKCE verifier.
    const start = await client.request(loginUrl(stack.bffUrl));
    const txCookie = start.setCookies.find((c) => c.startsWith('latch-tx-'))!.split(';')[0]!;
    const tx = await sealer.unseal<{ codeVerifier: string; state: string; nonce: string }>(txCookie.slice(txCookie.indexOf('=') + 1));
    assert.ok(tx);
    secrets.push(['transaction cookie', txCookie.slice(txCookie.indexOf('=') + 1)], ['code verifier', tx.codeVerifier], ['nonce', tx.nonce]);
    const pending = await pendingCallback(client, stack.bffUrl);
    secrets.push(['authorization code', pending.searchParams.get('code')!]);
    await client.request(pending.href);

    // A refresh, a failed refresh, a logout, a forged and a valid back-channel logout.
    await sleep(1600);
    const refreshed = await client.request(`${stack.bffUrl}/me`);
    assert.equal(refreshed.status, 200);
    const second = (await stack.bff.app.latch.sites.all[0]!.cookies.read(sessionCookieHeader(refreshed.setCookies)))!.session;
    secrets.push(['refreshed access token', second.at], ['rotated refresh token', second.rt!]);
    stack.interceptor!.onToken = { grant: 'refresh_token', sign: 'bad-signature' };
    await sleep(1600);
    await client.request(`${stack.bffUrl}/me`);
    stack.interceptor!.onToken = undefined;
    const forged = await stack.interceptor!.sign({ iss: stack.provider.issuer, aud: stack.clientId, sub: 'user-dana', jti: 'j1', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 }, 'bad-signature');
    secrets.push(['logout token', forged]);
    await post(`${stack.bffUrl}/backchannel-logout`, { 'content-type': 'application/x-www-form-urlencoded' }, `logout_token=${forged}`);
    const { cookie: third } = await signedIn(stack);
    await post(`${stack.bffUrl}/logout`, { cookie: third, origin: SITE, 'latch-csrf': '1' });

    const all = stack.bff.logs.join('\n');
    for (const event of ['audit: login', 'audit: refresh_failed', 'audit: logout']) assert.ok(all.includes(event), `the logs saw "${event}"`);
    for (const [name, value] of secrets) {
      assert.ok(value && value.length >= 8, `${name} is known`);
      assert.equal(all.includes(value), false, `the logs contain the ${name}`);
    }
    assert.doesNotMatch(all, /eyJ[\w-]+\.[\w-]+\./, 'no JWT');
    assert.doesNotMatch(all, /Fe26\.2\*/, 'no sealed value');
    for (const line of stack.bff.logs) JSON.parse(line); // structured: one JSON object a line
  });
});

describe('audit events', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack();
  });
  after(() => stack.close());

  it('reports login and logout with session id and subject, and logs each', async () => {
    const { cookie } = await signedIn(stack);
    const login = stack.bff.audits.find((e) => e.type === 'login');
    assert.ok(login && login.type === 'login');
    assert.equal(login.sub, 'user-dana');
    const sid = (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!.session.sid;
    assert.equal(login.sid, sid);
    await post(`${stack.bffUrl}/logout`, { cookie, origin: SITE, 'latch-csrf': '1' });
    const logout = stack.bff.audits.find((e) => e.type === 'logout');
    assert.ok(logout && logout.type === 'logout' && logout.sid === sid && logout.everywhere === false);
    assert.ok(stack.bff.logs.some((l) => l.includes('"audit: logout"')));
  });

  it('sets no cookie and audits nothing for a refused sign-in', async () => {
    const before = stack.bff.audits.length;
    const res = await get(`${stack.bffUrl}/callback?state=forged&code=x`);
    assertNoSessionSet(res);
    assert.equal(stack.bff.audits.length, before);
  });
});

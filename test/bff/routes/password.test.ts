import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORD_LIMIT_PER_IP, PASSWORD_LIMIT_PER_USERNAME } from '../../../bff/routes/password.ts';
import { HttpClient } from '../../helpers/http.ts';
import { freePort } from '../../helpers/net.ts';
import { SITE, assertNoSession, errorCode, sessionSet, sleep, startBff, startOidcSetup, type OidcSetup } from '../providers/support.ts';

const JSON_CSRF = { 'content-type': 'application/json', origin: SITE, 'latch-csrf': '1' };

function post(client: HttpClient, bffUrl: string, body: unknown, headers: Record<string, string> = JSON_CSRF) {
  return client.request(`${bffUrl}/login/password`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('POST /login/password', () => {
  it('does not exist unless LATCH_ENABLE_PASSWORD_GRANT=true', async () => {
    const setup = await startOidcSetup({ passwordGrant: true, env: (issuer) => ({ LATCH_ISSUER: issuer }) });
    try {
      const res = await post(new HttpClient(), setup.bffUrl, { username: setup.user.login, password: setup.user.password });
      assert.equal(res.status, 404);
      assert.equal(errorCode(res), 'LATCH_NOT_FOUND');
      assertNoSession(res, 'off');
      assert.equal(setup.op.counts.token, 0);
      assert.ok(!setup.bff.logs.some((l) => l.includes('"variable":"LATCH_ENABLE_PASSWORD_GRANT"')));
    } finally {
      await setup.close();
    }
  });

  describe('with LATCH_PROVIDER=oidc and the grant on (oidc-provider with registerGrantType)', () => {
    let setup: OidcSetup;
    before(async () => {
      setup = await startOidcSetup({
        passwordGrant: true,
        provider: { accessTokenTtl: 3 },
        env: (issuer) => ({ LATCH_ISSUER: issuer, LATCH_ENABLE_PASSWORD_GRANT: 'true' }),
      });
    });
    after(() => setup?.close());

    it('logs a warning at start-up', () => {
      const line = setup.bff.logs.find((l) => l.includes('"variable":"LATCH_ENABLE_PASSWORD_GRANT"'));
      assert.ok(line);
      assert.equal(JSON.parse(line).level, 40);
    });

    it('signs in with JSON {username, password}, sets the session cookie, answers like /me, and the session refreshes', async () => {
      const client = new HttpClient();
      const res = await post(client, setup.bffUrl, { username: setup.user.login, password: setup.user.password });
      assert.equal(res.status, 200, res.text);
      const cookie = sessionSet(res);
      assert.ok(cookie);
      assert.match(cookie, /HttpOnly/i);
      const body = res.json<{ user: Record<string, unknown>; expiresAt: number }>();
      assert.equal(body.user['sub'], setup.user.sub);
      assert.equal(body.user['email'], setup.user.email);
      assert.ok(body.expiresAt > Date.now());
      assert.equal(JSON.stringify(body).includes('token'), false);

      const me = await client.request(`${setup.bffUrl}/me`);
      assert.equal(me.status, 200);
      setup.op.resetCounts();
      await sleep(1600);
      assert.equal((await client.request(`${setup.bffUrl}/me`)).status, 200);
      assert.equal(setup.op.counts.tokenByGrant['refresh_token'], 1);
      assert.ok(!setup.bff.logs.join('\n').includes(setup.user.password), 'the password is never logged');
    });

    it('answers 401 LATCH_INVALID_CREDENTIALS to a wrong password, with no session', async () => {
      const res = await post(new HttpClient(), setup.bffUrl, { username: 'someone@latch.test', password: 'wrong' });
      assert.equal(res.status, 401);
      assert.equal(errorCode(res), 'LATCH_INVALID_CREDENTIALS');
      assertNoSession(res, 'wrong password');
    });

    for (const [what, headers, status, code] of [
      ['without the Latch-CSRF header', { 'content-type': 'application/json', origin: SITE }, 403, 'LATCH_CSRF'],
      ['from an origin not allowed', { ...JSON_CSRF, origin: 'https://evil.example' }, 403, 'LATCH_ORIGIN_NOT_ALLOWED'],
    ] as const) {
      it(`answers ${status} ${code} ${what}, before asking the server`, async () => {
        setup.op.resetCounts();
        const res = await post(new HttpClient(), setup.bffUrl, { username: setup.user.login, password: setup.user.password }, headers);
        assert.equal(res.status, status);
        assert.equal(errorCode(res), code);
        assertNoSession(res, what);
        assert.equal(setup.op.counts.token, 0);
      });
    }

    for (const [what, body, type, status, code] of [
      ['a form body', 'username=a&password=b', 'application/x-www-form-urlencoded', 415, 'LATCH_UNSUPPORTED_MEDIA_TYPE'],
      ['malformed JSON', '{"username":', 'application/json', 400, 'LATCH_BAD_REQUEST'],
      ['no password', '{"username":"a"}', 'application/json', 400, 'LATCH_BAD_REQUEST'],
      ['a numeric username', '{"username":1,"password":"b"}', 'application/json', 400, 'LATCH_BAD_REQUEST'],
      ['a body over 4 KB', JSON.stringify({ username: 'a', password: 'x'.repeat(5000) }), 'application/json', 413, 'LATCH_BODY_TOO_LARGE'],
    ] as const) {
      it(`answers ${status} ${code} to ${what}`, async () => {
        const res = await post(new HttpClient(), setup.bffUrl, body, { ...JSON_CSRF, 'content-type': type });
        assert.equal(res.status, status);
        assert.equal(errorCode(res), code);
        assertNoSession(res, what);
      });
    }

    it(`limits attempts per username (${PASSWORD_LIMIT_PER_USERNAME.max} a window), right password included`, async () => {
      const username = 'target@latch.test';
      for (let i = 0; i < PASSWORD_LIMIT_PER_USERNAME.max; i++) {
        assert.equal((await post(new HttpClient(), setup.bffUrl, { username, password: `guess-${i}` })).status, 401);
      }
      setup.op.resetCounts();
      const limited = await post(new HttpClient(), setup.bffUrl, { username: username.toUpperCase(), password: 'guess' });
      assert.equal(limited.status, 429);
      assert.equal(errorCode(limited), 'LATCH_RATE_LIMITED');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.equal(setup.op.counts.token, 0, 'the server is not asked');
      // Another user from the same IP is not held back.
      const other = await post(new HttpClient(), setup.bffUrl, { username: setup.user.login, password: setup.user.password });
      assert.equal(other.status, 200);
    });
  });

  it(`limits attempts per IP (${PASSWORD_LIMIT_PER_IP.max} a window) whatever the usernames`, async () => {
    const setup = await startOidcSetup({
      passwordGrant: true,
      env: (issuer) => ({ LATCH_ISSUER: issuer, LATCH_ENABLE_PASSWORD_GRANT: 'true' }),
    });
    try {
      for (let i = 0; i < PASSWORD_LIMIT_PER_IP.max; i++) {
        assert.equal((await post(new HttpClient(), setup.bffUrl, { username: `user-${i}@latch.test`, password: 'x' })).status, 401);
      }
      const limited = await post(new HttpClient(), setup.bffUrl, { username: setup.user.login, password: setup.user.password });
      assert.equal(limited.status, 429);
      assert.equal(errorCode(limited), 'LATCH_RATE_LIMITED');
      assertNoSession(limited, 'limited');
      // The limit is per BFF instance and per IP: a second instance still answers.
      const fresh = await startBff(await freePort(), bffEnvOf(setup));
      try {
        const ok = await post(new HttpClient(), fresh.url, { username: setup.user.login, password: setup.user.password });
        assert.equal(ok.status, 200, ok.text);
      } finally {
        await fresh.close();
      }
    } finally {
      await setup.close();
    }
  });
});

/** The LATCH_* variables a second BFF needs to share a setup's provider and client. */
function bffEnvOf(setup: OidcSetup): Record<string, string> {
  return {
    LATCH_ISSUER: setup.op.issuer,
    LATCH_CLIENT_ID: setup.clientId,
    LATCH_CLIENT_SECRET: setup.clientSecret,
    LATCH_ENABLE_PASSWORD_GRANT: 'true',
  };
}

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createBff, type Bff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { mintSession, startTestProvider, type TestProvider } from '../../testing/index.ts';
import { cookiePairs, patchedSessionCookie, startUpstream } from '../bff/routes/proxy-support.ts';
import { HttpClient, signIn } from '../helpers/http.ts';
import { buildTesting } from '../../scripts/build-testing.ts';
import { captureLogs } from '../helpers/logs.ts';
import { freePort, listen, type Listening } from '../helpers/net.ts';

const SITE = 'http://www.latch.test:8080';
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('latch/testing: startTestProvider() and mintSession() against a real BFF', () => {
  let op: TestProvider;
  let bff: Listening;
  let app: Bff;
  let env: Record<string, string>;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const api = { origin: SITE, 'latch-csrf': '1' };

  before(async () => {
    upstream = await startUpstream();
    const port = await freePort();
    const bffUrl = `http://127.0.0.1:${port}`;
    op = await startTestProvider({
      bffUrl,
      postLogoutRedirectUris: [`${SITE}/`],
      users: [
        { login: 'ada@example.test', name: 'Ada Lovelace', claims: { roles: ['admin'] } },
        { login: 'grace@example.test', password: 'a-known-password', sub: 'grace-1' },
      ],
    });
    env = {
      ...op.env,
      LATCH_BASE_URL: bffUrl,
      LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
      LATCH_ALLOWED_ORIGINS: SITE,
      LATCH_API_ROUTES: `echo=${upstream.server.url}`,
    };
    app = createBff(loadConfig(env), { logger: captureLogs().logger });
    bff = await listen(app.callback(), { port });
  });
  after(async () => {
    await bff?.close();
    await op?.close();
    await upstream?.server.close();
  });

  it('fills in each user, and gives the BFF its issuer and client', () => {
    const ada = op.user('ada@example.test');
    assert.deepEqual({ sub: ada.sub, name: ada.name, email: ada.email, verified: ada.email_verified }, { sub: 'user-ada@example.test', name: 'Ada Lovelace', email: 'ada@example.test', verified: true });
    assert.ok(ada.password.length >= 16, 'a random password');
    assert.equal(op.user('grace-1').password, 'a-known-password');
    assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(Object.keys(op.env).sort(), ['LATCH_ALLOW_INSECURE_HTTP', 'LATCH_CLIENT_ID', 'LATCH_CLIENT_SECRET', 'LATCH_ISSUER']);
    assert.throws(() => op.user('nobody@example.test'), /no test user "nobody@example.test"/);
  });

  it('signs a user in through its sign-in page, as a browser does', async () => {
    const client = new HttpClient();
    const grace = op.user('grace@example.test');
    const { finalUrl } = await signIn(client, `${bff.url}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`, grace);
    assert.equal(finalUrl.href, `${SITE}/`);
    const me = await client.request(`${bff.url}/me`, { headers: { origin: SITE } });
    assert.equal(me.status, 200);
    assert.equal(me.json<{ user: { sub: string } }>().user.sub, 'grace-1');
  });

  it('mints a session cookie that /me, a refresh, the proxy and logout accept', async () => {
    const minted = await mintSession({ provider: op, user: 'ada@example.test', env });
    assert.equal(minted.user.sub, 'user-ada@example.test');
    assert.deepEqual(minted.user['roles'], ['admin']);

    const me = await fetch(`${bff.url}/me`, { headers: { ...api, cookie: minted.cookieHeader } });
    assert.equal(me.status, 200);
    const body = (await me.json()) as { user: Record<string, unknown>; expiresAt: number };
    assert.deepEqual(body.user, minted.user);
    assert.ok(Math.abs(body.expiresAt - minted.expiresAt) < 5000, `${body.expiresAt} vs ${minted.expiresAt}`);

    // Real tokens: the access token goes upstream, and the refresh token refreshes at the provider.
    const session = (await app.latch.sites.all[0]!.cookies.read(minted.cookieHeader))!.session;
    assert.ok(session.rt, 'a refresh token');
    const proxied = await fetch(`${bff.url}/api/echo/orders`, { headers: { ...api, cookie: minted.cookieHeader } });
    assert.equal(proxied.status, 200);
    assert.equal(upstream.seen.at(-1)!.headers.authorization, `Bearer ${session.at}`);
    const userinfo = await fetch(`${op.issuer}/me`, { headers: { authorization: `Bearer ${session.at}` } });
    assert.equal(userinfo.status, 200, 'the provider knows the access token');

    const { cookie: expired } = await patchedSessionCookie(app, minted.cookieHeader, { atExp: Date.now() - 1000 });
    const refreshed = await fetch(`${bff.url}/me`, { headers: { ...api, cookie: expired } });
    assert.equal(refreshed.status, 200);
    const after = (await app.latch.sites.all[0]!.cookies.read(cookiePairs(refreshed.headers.getSetCookie())))!.session;
    assert.notEqual(after.at, session.at, 'refreshed with the minted refresh token');
    assert.ok(after.atExp > Date.now());

    const logout = await fetch(`${bff.url}/logout`, { method: 'POST', headers: { ...api, cookie: minted.cookieHeader } });
    assert.equal(logout.status, 200);
    assert.equal((await fetch(`${bff.url}/me`, { headers: { ...api, cookie: minted.cookieHeader } })).status, 401, 'the logged-out session is refused');
  });

  it('shapes the cookies for Playwright\'s addCookies() and for Set-Cookie', async () => {
    const minted = await mintSession({ provider: op, user: 'grace-1', env });
    assert.ok(minted.cookies.length >= 1);
    for (const cookie of minted.cookies) {
      assert.equal(cookie.url, `${bff.url}/`);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.secure, false);
      assert.equal(cookie.sameSite, 'Lax');
      assert.ok(cookie.expires > Date.now() / 1000 + 60);
    }
    assert.equal(minted.cookies[0]!.name, 'latch');
    assert.equal(minted.cookieHeader, cookiePairs(minted.setCookie));
  });

  it('seals for an https BFF as it would: __Host- and Secure cookies', async () => {
    const secure = await startTestProvider({ bffUrl: 'https://auth.example.test', users: [{ login: 'ada@example.test' }] });
    try {
      const httpsEnv = { ...secure.env, LATCH_BASE_URL: 'https://auth.example.test', LATCH_COOKIE_SECRET: env['LATCH_COOKIE_SECRET']!, LATCH_ALLOWED_ORIGINS: 'https://www.example.test' };
      const minted = await mintSession({ provider: secure, user: 'ada@example.test', env: httpsEnv });
      assert.equal(minted.cookies[0]!.name, '__Host-latch');
      assert.equal(minted.cookies[0]!.secure, true);
      assert.match(minted.setCookie[0]!, /; Secure/);
      // The BFF configured that way opens it.
      const httpsBff = createBff(loadConfig(httpsEnv), { logger: captureLogs().logger });
      assert.equal((await httpsBff.latch.sites.all[0]!.cookies.read(minted.cookieHeader))?.session.user.sub, 'user-ada@example.test');
    } finally {
      await secure.close();
    }
  });

  it('mints from the provider\'s JSON too, as another process (Playwright\'s global setup) hands it on', async () => {
    const handedOn = JSON.parse(JSON.stringify(op)) as TestProvider;
    const minted = await mintSession({ provider: handedOn, user: 'grace@example.test', env });
    assert.equal((await fetch(`${bff.url}/me`, { headers: { ...api, cookie: minted.cookieHeader } })).status, 200);
  });

  it('a cookie minted with another cookie secret is refused', async () => {
    const minted = await mintSession({ provider: op, user: 'ada@example.test', env: { ...env, LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url') } });
    assert.equal((await fetch(`${bff.url}/me`, { headers: { ...api, cookie: minted.cookieHeader } })).status, 401);
  });

  describe('says what is wrong', () => {
    it('an unknown user', async () => {
      await assert.rejects(mintSession({ provider: op, user: 'nobody@example.test', env }), /no test user "nobody@example.test"/);
    });
    it('a BFF configured for another issuer', async () => {
      await assert.rejects(mintSession({ provider: op, user: 'ada@example.test', env: { ...env, LATCH_ISSUER: 'http://127.0.0.1:9' } }), /LATCH_ISSUER \(http:\/\/127\.0\.0\.1:9\) is not the test provider's issuer/);
    });
    it('a BFF base URL the provider was not started with', async () => {
      await assert.rejects(mintSession({ provider: op, user: 'ada@example.test', env: { ...env, LATCH_BASE_URL: 'http://127.0.0.1:9' } }), /LATCH_BASE_URL one of the provider's bffUrl/);
    });
    it('a password the provider does not know', async () => {
      const wrong = { issuer: op.issuer, users: op.users.map((u) => ({ ...u, password: 'not-the-password' })) };
      await assert.rejects(mintSession({ provider: wrong, user: 'ada@example.test', env }), /refused the password of "ada@example.test"/);
    });
    it('a bad BFF environment, naming the variable', async () => {
      await assert.rejects(mintSession({ provider: op, user: 'ada@example.test', env: { ...env, LATCH_COOKIE_SECRET: 'short' } }), /LATCH_COOKIE_SECRET/);
    });
    it('sessions that live inside the BFF process (LATCH_SESSION_STORE=memory)', async () => {
      await assert.rejects(mintSession({ provider: op, user: 'ada@example.test', env: { ...env, LATCH_SESSION_STORE: 'memory' } }), /LATCH_SESSION_STORE=memory/);
    });
    it('no users, or two with one login', async () => {
      await assert.rejects(startTestProvider({ bffUrl: bff.url, users: [] }), /at least one user/);
      await assert.rejects(startTestProvider({ bffUrl: bff.url, users: [{ login: 'a@x.test' }, { login: 'A@x.test' }] }), /two users with the same login/);
      await assert.rejects(startTestProvider({ bffUrl: 'ftp://x', users: [{ login: 'a@x.test' }] }), /not an http\(s\) URL/);
    });
  });
});

describe('latch/testing as installed (dist/testing, through the package\'s exports)', () => {
  let dir: string;
  const run = (script: string) => spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  const link = (name: string) => {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(realpathSync(join(root, 'node_modules', name)), join(dir, 'node_modules', name));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latch-testing-'));
    const installed = join(dir, 'node_modules/latch');
    await buildTesting({ outdir: join(installed, 'dist/testing'), typesDir: false });
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    writeFileSync(join(installed, 'package.json'), JSON.stringify(pkg));
    // latch's dependencies, as npm would install them beside it; oidc-provider not yet.
    for (const name of Object.keys(pkg.dependencies)) link(name);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const script = `
    import { startTestProvider, mintSession } from 'latch/testing';
    console.log('mintSession: ' + typeof mintSession);
    try {
      const op = await startTestProvider({ bffUrl: 'http://127.0.0.1:9', users: [{ login: 'ada@example.test' }] });
      console.log('issuer: ' + op.issuer);
      await op.close();
    } catch (err) {
      console.log('error: ' + err.message);
    }`;

  it('loads without oidc-provider, and startTestProvider() says to install it', () => {
    const result = run(script);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^mintSession: function$/m);
    assert.match(result.stdout, /^error: latch\/testing: startTestProvider\(\) runs oidc-provider, an optional peer dependency of latch\. Install it beside latch: npm install --save-dev oidc-provider@\^9$/m);
  });

  it('starts the provider once oidc-provider is installed', () => {
    link('oidc-provider');
    const result = run(script);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^issuer: http:\/\/127\.0\.0\.1:\d+$/m);
  });
});

/**
 * The BFF as a whole (bff/app.ts `createBff`): the walking skeleton, a whole session's life against a
 * real oidc-provider (sign-in, /me, a refresh, logout, the provider's sign-out), and what the app
 * believes of forwarded headers (LATCH_TRUST_PROXY), answered in memory. Each route's own tests:
 * test/bff/routes/; the security suite: test/security/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBff } from '../../bff/app.ts';
import { loadConfig } from '../../bff/config.ts';
import { BASE_URL, bffEnv } from '../helpers/bff.ts';
import { HttpClient, completeProviderLogout, followLogoutHandle, signIn } from '../helpers/http.ts';
import { inMemory } from '../helpers/in-memory.ts';
import { captureLogs } from '../helpers/logs.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sessionCookie(setCookies: string[], name = 'latch') {
  return setCookies.find((c) => c.startsWith(`${name}=`));
}

describe('the walking skeleton against oidc-provider', () => {
  let stack: Stack;
  before(async () => {
    // Access tokens live 3 s, so with the BFF's refresh margin (half their life) they are "about to expire" after 1.5 s.
    stack = await startStack({ provider: { accessTokenTtl: 3 } });
  });
  after(() => stack.close());

  it('signs in, serves /me, refreshes an expiring access token, and signs out', async () => {
    const client = new HttpClient();
    const returnTo = `${stack.siteOrigin}/account?tab=1`;
    const { finalUrl, callbackResult } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(returnTo)}`, stack.user);
    assert.equal(finalUrl.href, returnTo);
    assert.ok(callbackResult, 'the callback was reached');
    const cookie = sessionCookie(callbackResult.setCookies);
    assert.ok(cookie, 'the callback sets the session cookie');
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.ok(Buffer.byteLength(cookie) < 4096, `cookie is ${Buffer.byteLength(cookie)} bytes`);
    // A JWT's shape (a JSON header, then a dot): a seal's random base64url holds the letters eyJ now and then.
    assert.doesNotMatch(cookie, /eyJ[\w-]*\.[\w-]*\./, 'no readable JWT inside the sealed cookie');

    const me = await client.request(`${stack.bffUrl}/me`, { headers: { origin: stack.siteOrigin } });
    assert.equal(me.status, 200, me.text + stack.logs.slice(-3).join(""));
    const body = me.json<{ user: Record<string, unknown>; expiresAt: number }>();
    assert.equal(body.user['email'], stack.provider.users[0]!.email);
    assert.equal(body.user['name'], stack.provider.users[0]!.name);
    assert.equal(typeof body.user['sub'], 'string');
    assert.ok(body.expiresAt > Date.now());
    assert.equal(JSON.stringify(body).includes('token'), false, 'no token reaches the page');
    assert.equal(me.headers.get('access-control-allow-origin'), stack.siteOrigin);
    assert.equal(me.headers.get('access-control-allow-credentials'), 'true');
    assert.match(me.headers.get('vary') ?? '', /Origin/);

    // The access token is now within the refresh margin: /me refreshes it once, with the refresh token.
    stack.provider.resetCounts();
    await sleep(1600);
    const refreshed = await client.request(`${stack.bffUrl}/me`);
    assert.equal(refreshed.status, 200);
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'], 1);
    assert.ok(sessionCookie(refreshed.setCookies), 'the refreshed tokens are resealed into the cookie');
    const again = await client.request(`${stack.bffUrl}/me`);
    assert.equal(again.status, 200);

    const noCsrf = await client.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: stack.siteOrigin } });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.json<{ error: { code: string } }>().error.code, 'LATCH_CSRF');
    assert.equal((await client.request(`${stack.bffUrl}/me`)).status, 200, 'a refused logout leaves the session');

    const out = await client.request(`${stack.bffUrl}/logout`, {
      method: 'POST',
      headers: { origin: stack.siteOrigin, 'latch-csrf': '1' },
    });
    assert.equal(out.status, 200);
    // The page reads this answer: it names the BFF's own /logout/end, never a token.
    const { logoutUrl } = out.json<{ logoutUrl: string }>();
    assert.equal(`${new URL(logoutUrl).origin}${new URL(logoutUrl).pathname}`, `${stack.bffUrl}/logout/end`);
    assert.doesNotMatch(out.text, /id_token_hint|eyJ[\w-]*\.[\w-]*\./, 'no ID token in the answer');
    assert.match(sessionCookie(out.setCookies) ?? '', /Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    const gone = await client.request(`${stack.bffUrl}/me`);
    assert.equal(gone.status, 401);
    assert.equal(gone.json<{ error: { code: string } }>().error.code, 'LATCH_UNAUTHENTICATED');
    // The browser's navigation there is redirected to the provider, the hint added by the BFF.
    const end = await followLogoutHandle(client, logoutUrl);
    assert.equal(end.origin, stack.provider.issuer);
    assert.ok(end.searchParams.get('id_token_hint'));
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${stack.siteOrigin}/`);
    const { finalUrl: afterLogout } = await completeProviderLogout(client, end.href);
    assert.equal(afterLogout.href, `${stack.siteOrigin}/`);
  });

  it('keeps tokens, cookies and secrets out of the logs', () => {
    const all = stack.logs.join('\n');
    assert.ok(all.includes('signed in'), 'the logs saw the logins');
    assert.equal(all.includes(stack.clientSecret), false);
    assert.doesNotMatch(all, /eyJ[\w-]+\.[\w-]+\./, 'no JWT in the logs');
    assert.doesNotMatch(all, /Fe26\.2\*/, 'no sealed cookie in the logs');
  });
});

describe('LATCH_TRUST_PROXY', () => {
  async function seen(trustProxy: string) {
    const app = createBff(loadConfig(bffEnv({ LATCH_TRUST_PROXY: trustProxy })), { logger: captureLogs().logger });
    app.use((ctx) => {
      ctx.body = { ip: ctx.ip, protocol: ctx.protocol, host: ctx.host };
    });
    // From 127.0.0.1, to the BFF's own host and port.
    const res = await inMemory(app, { url: BASE_URL }).fetch('/probe', {
      // The client wrote 198.51.100.66 itself; a CDN saw 203.0.113.9; the load balancer saw the CDN at 10.0.0.1.
      headers: { 'x-forwarded-for': '198.51.100.66, 203.0.113.9, 10.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'auth.example.com' },
    });
    return (await res.json()) as { ip: string; protocol: string; host: string };
  }

  it('is off by default: X-Forwarded-* are ignored', async () => {
    const s = await seen('false');
    assert.equal(s.ip, '127.0.0.1');
    assert.equal(s.protocol, 'http');
    assert.match(s.host, /^127\.0\.0\.1:\d+$/);
  });

  it('true (one proxy): the address that proxy saw, and the scheme and host it forwarded', async () => {
    assert.deepEqual(await seen('true'), { ip: '10.0.0.1', protocol: 'https', host: 'auth.example.com' });
  });

  it('a number of proxies: the address the outermost one saw, never one the client wrote', async () => {
    assert.equal((await seen('2')).ip, '203.0.113.9');
    assert.equal((await seen('3')).ip, '198.51.100.66');
  });
});

/**
 * LATCH_PROVIDER=oauth2: how the preset finds a server's OpenID metadata, for the answers a real
 * django-oauth-toolkit cannot be made to give (DOT 2+'s `scopes_supported`, an outage, a wrong issuer).
 * The flows themselves run against the real DOT in dot.test.ts; here a scripted loopback server
 * answers the metadata URLs, and each test reads what /login does with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../../helpers/http.ts';
import { freePort } from '../../helpers/net.ts';
import { SITE, answer, errorCode, loggedFix, startBff, startScriptedServer, type BffHandle, type Script, type ScriptedServer } from './support.ts';

const login = (bffUrl: string) => new HttpClient().request(`${bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/app`)}`);

/** DOT 2+'s answer: metadata at the spec's URL (no trailing slash), with `scopes_supported`. */
function metadata(server: ScriptedServer, extra: Record<string, unknown> = {}): Script {
  return (req, res) => {
    if (req.url !== '/o/.well-known/openid-configuration') {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    }
    const o = `${server.url}/o`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      issuer: o,
      authorization_endpoint: `${o}/authorize/`,
      token_endpoint: `${o}/token/`,
      userinfo_endpoint: `${o}/userinfo/`,
      jwks_uri: `${o}/.well-known/jwks.json`,
      scopes_supported: ['openid', 'profile', 'email', 'read', 'write'],
      ...extra,
    }));
  };
}

describe('LATCH_PROVIDER=oauth2: the OpenID metadata under LATCH_OAUTH2_BASE_URL', () => {
  let server: ScriptedServer;
  const bffs: BffHandle[] = [];
  const bff = async (env: Record<string, string> = {}) => {
    const started = await startBff(await freePort(), {
      LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: server.url, LATCH_CLIENT_ID: 'web', LATCH_CLIENT_SECRET: 'secret', ...env,
    });
    bffs.push(started);
    return started;
  };
  before(async () => {
    server = await startScriptedServer();
  });
  after(async () => {
    for (const b of bffs) await b.close();
    await server.close();
  });

  it('asks for openid and the optional scopes the metadata lists, then the user-token routes\' scopes', async () => {
    server.script = metadata(server);
    const b = await bff({ LATCH_API_ROUTES: 'orders=https://api.example.com/orders', LATCH_API_ROUTE_ORDERS_SCOPE: 'orders:read' });
    const to = new URL((await login(b.url)).location!);
    assert.equal(`${to.origin}${to.pathname}`, `${server.url}/o/authorize/`);
    assert.equal(to.searchParams.get('scope'), 'openid profile email orders:read');
    assert.ok(to.searchParams.get('nonce'));
  });

  it('uses LATCH_SCOPES as given, and endpoints given by hand over the metadata\'s', async () => {
    server.script = metadata(server);
    const b = await bff({ LATCH_SCOPES: 'openid read', LATCH_AUTHORIZATION_ENDPOINT: 'https://login.example.com/o/authorize/' });
    const to = new URL((await login(b.url)).location!);
    assert.equal(`${to.origin}${to.pathname}`, 'https://login.example.com/o/authorize/');
    assert.equal(to.searchParams.get('scope'), 'openid read');
  });

  it('takes a 5xx for an outage, not for "no OpenID": 502, and the next sign-in asks again', async () => {
    server.script = answer(503, 'text/html', '<h1>Service Unavailable</h1>');
    const b = await bff();
    const down = await login(b.url);
    assert.equal(down.status, 502);
    assert.equal(errorCode(down), 'LATCH_UPSTREAM_ERROR');
    server.script = metadata(server);
    const up = new URL((await login(b.url)).location!);
    assert.equal(up.searchParams.get('scope'), 'openid profile email');
  });

  it('refuses metadata naming another issuer than LATCH_ISSUER, the log naming the variable', async () => {
    server.script = metadata(server);
    const b = await bff({ LATCH_ISSUER: 'http://127.0.0.1:1/o' });
    const res = await login(b.url);
    assert.equal(res.status, 502);
    assert.equal(errorCode(res), 'LATCH_UPSTREAM_ERROR');
    loggedFix(b, /^LATCH_ISSUER: the server's metadata names the issuer/);
  });

  it('refuses metadata that names no issuer', async () => {
    server.script = metadata(server, { issuer: undefined });
    const res = await login((await bff()).url);
    assert.equal(res.status, 502);
    assert.equal(errorCode(res), 'LATCH_UPSTREAM_ERROR');
  });

  it('answers 502 LATCH_UPSTREAM_ERROR, the log naming LATCH_DISCOVERY_URL, when that URL has no metadata', async () => {
    server.script = metadata(server);
    const b = await startBff(await freePort(), {
      LATCH_PROVIDER: 'oauth2', LATCH_DISCOVERY_URL: `${server.url}/elsewhere/openid-configuration`, LATCH_CLIENT_ID: 'web', LATCH_CLIENT_SECRET: 'secret',
    });
    bffs.push(b);
    const res = await login(b.url);
    assert.equal(res.status, 502);
    assert.equal(errorCode(res), 'LATCH_UPSTREAM_ERROR');
    loggedFix(b, /^LATCH_DISCOVERY_URL: no OpenID metadata there \(404\)/);
  });
});

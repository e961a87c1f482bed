/** The sites section (bff/config/sites.ts): LATCH_BASE_URL, LATCH_ALLOWED_ORIGINS, LATCH_POST_LOGOUT_REDIRECT_URI, LATCH_SITES(_FILE), LATCH_HANDOFF. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';

const valid = { LATCH_ISSUER: 'https://login.example.com', ...BASE_ENV };

describe('one site: LATCH_BASE_URL and LATCH_ALLOWED_ORIGINS', () => {
  it('refuses http:// unless LATCH_ALLOW_INSECURE_HTTP=true', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_BASE_URL: 'http://auth.example.com' }), ['LATCH_BASE_URL']);
    assert.deepEqual(problemsOf({ ...valid, LATCH_BASE_URL: 'http://auth.example.com', LATCH_ALLOW_INSECURE_HTTP: 'true' }), []);
  });

  it('refuses allowed origins that are not bare origins', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_ALLOWED_ORIGINS: 'https://www.example.com/path' }), ['LATCH_ALLOWED_ORIGINS', 'LATCH_ALLOWED_ORIGINS']);
  });

  it('refuses a base URL with a query or fragment', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_BASE_URL: 'https://auth.example.com/?x=1' }), ['LATCH_BASE_URL']);
    assert.deepEqual(problemsOf({ ...valid, LATCH_BASE_URL: 'https://auth.example.com/#x' }), ['LATCH_BASE_URL']);
  });

  it('names LATCH_POST_LOGOUT_REDIRECT_URI when it lies off the allowed origins', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_POST_LOGOUT_REDIRECT_URI: 'https://evil.example/' }), ['LATCH_POST_LOGOUT_REDIRECT_URI']);
    assert.equal(loadConfig({ ...valid, LATCH_POST_LOGOUT_REDIRECT_URI: 'https://www.example.com/bye' }).postLogoutRedirectUri, 'https://www.example.com/bye');
  });
});

const base = {
  LATCH_ISSUER: 'https://login.example.com',
  LATCH_CLIENT_ID: 'web',
  LATCH_CLIENT_SECRET: 'client-secret',
  LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
};
const SITES = [
  { baseUrl: 'https://auth.shop-a.example', allowedOrigins: ['https://shop-a.example', 'https://www.shop-a.example'] },
  { baseUrl: 'https://auth.campaign-b.example/', allowedOrigins: 'https://campaign-b.example', postLogoutRedirectUri: 'https://campaign-b.example/bye' },
  { baseUrl: 'https://shop-c.example/latch/', allowedOrigins: ['https://shop-c.example'] },
];

describe('LATCH_SITES configuration', () => {
  it('reads the sites, each with its redirect URI; the first stands for the deployment', () => {
    const config = loadConfig({ ...base, LATCH_SITES: JSON.stringify(SITES) });
    assert.equal(config.hostRouting, true);
    assert.deepEqual(config.sites.map((s) => [s.baseUrl.href, s.redirectUri, s.allowedOrigins, s.postLogoutRedirectUri]), [
      ['https://auth.shop-a.example/', 'https://auth.shop-a.example/callback', ['https://shop-a.example', 'https://www.shop-a.example'], undefined],
      ['https://auth.campaign-b.example/', 'https://auth.campaign-b.example/callback', ['https://campaign-b.example'], 'https://campaign-b.example/bye'],
      ['https://shop-c.example/latch', 'https://shop-c.example/latch/callback', ['https://shop-c.example'], undefined],
    ]);
    assert.equal(config.baseUrl.href, 'https://auth.shop-a.example/');
    assert.equal(config.redirectUri, 'https://auth.shop-a.example/callback');
    assert.deepEqual(config.allowedOrigins, SITES[0]!.allowedOrigins);
  });

  it('puts LATCH_BASE_URL with LATCH_ALLOWED_ORIGINS first when both are set', () => {
    const config = loadConfig({ ...base, LATCH_BASE_URL: 'https://auth.brand.example', LATCH_ALLOWED_ORIGINS: 'https://www.brand.example', LATCH_SITES: JSON.stringify(SITES.slice(0, 1)) });
    assert.deepEqual(config.sites.map((s) => s.baseUrl.host), ['auth.brand.example', 'auth.shop-a.example']);
    assert.deepEqual(config.allowedOrigins, ['https://www.brand.example']);
    assert.deepEqual(problemsOf({ ...base, LATCH_BASE_URL: 'https://auth.brand.example', LATCH_SITES: JSON.stringify(SITES) }), ['LATCH_ALLOWED_ORIGINS']);
  });

  it('reads LATCH_SITES_FILE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latch-sites-'));
    try {
      const file = join(dir, 'sites.json');
      await writeFile(file, JSON.stringify(SITES));
      assert.equal(loadConfig({ ...base, LATCH_SITES_FILE: file }).sites.length, 3);
      assert.deepEqual(problemsOf({ ...base, LATCH_SITES_FILE: join(dir, 'missing.json') }), ['LATCH_SITES_FILE']);
      assert.deepEqual(problemsOf({ ...base, LATCH_SITES_FILE: file, LATCH_SITES: '[]' }), ['LATCH_SITES_FILE']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names each problem', () => {
    const sites = (...entries: unknown[]) => ({ ...base, LATCH_SITES: JSON.stringify(entries) });
    assert.deepEqual(problemsOf({ ...base, LATCH_SITES: '{not json' }), ['LATCH_SITES']);
    assert.deepEqual(problemsOf({ ...base, LATCH_SITES: '{"baseUrl":"https://a.example"}' }), ['LATCH_SITES']);
    assert.deepEqual(problemsOf(sites()), ['LATCH_SITES']);
    assert.deepEqual(problemsOf(sites({ allowedOrigins: ['https://a.example'] })), ['LATCH_SITES[0].baseUrl']);
    assert.deepEqual(problemsOf(sites({ baseUrl: 'https://auth.a.example' })), ['LATCH_SITES[0].allowedOrigins']);
    assert.deepEqual(problemsOf(sites({ baseUrl: 'http://auth.a.example', allowedOrigins: ['https://a.example'] })), ['LATCH_SITES[0].baseUrl']);
    assert.deepEqual(problemsOf(sites({ baseUrl: 'https://auth.a.example/?x=1', allowedOrigins: ['https://a.example'] })), ['LATCH_SITES[0].baseUrl']);
    assert.deepEqual(problemsOf(sites({ baseUrl: 'https://auth.a.example', allowedOrigins: ['https://a.example/path'] })), ['LATCH_SITES[0].allowedOrigins']);
    assert.deepEqual(problemsOf(sites({ baseUrl: 'https://auth.a.example', allowedOrigins: ['https://a.example'], cookie: 'x' })), ['LATCH_SITES[0]']);
    assert.deepEqual(problemsOf(sites({ baseUrl: 'https://auth.a.example', allowedOrigins: ['https://a.example'], postLogoutRedirectUri: 'https://evil.example/' })), ['LATCH_SITES[0].postLogoutRedirectUri']);
    assert.deepEqual(
      problemsOf(sites({ baseUrl: 'https://auth.a.example', allowedOrigins: ['https://a.example'] }, { baseUrl: 'https://auth.a.example/latch', allowedOrigins: ['https://b.example'] })),
      ['LATCH_SITES'],
      'one site per host name',
    );
    assert.deepEqual(problemsOf({ ...base, LATCH_SITES: JSON.stringify(SITES), LATCH_HANDOFF: 'true' }), []);
  });

  it('says LATCH_SITES lists no site unless its own entries were refused, whatever other sections found', () => {
    assert.deepEqual(problemsOf({ ...base, LATCH_SITES: '[]' }), ['LATCH_SITES']);
    assert.deepEqual(problemsOf({ ...base, LATCH_SITES: '[]', LATCH_CLIENT_ID: undefined }), ['LATCH_CLIENT_ID', 'LATCH_SITES']);
    assert.deepEqual(problemsOf({ ...base, LATCH_SITES: '[{"baseUrl":"ftp://a.example","allowedOrigins":["https://a.example"]}]' }), ['LATCH_SITES[0].baseUrl'], 'not said again');
  });

  it('without LATCH_SITES: one site from LATCH_BASE_URL, answered on any host, as before', () => {
    const config = loadConfig({ ...base, LATCH_BASE_URL: 'https://auth.example.com', LATCH_ALLOWED_ORIGINS: 'https://www.example.com' });
    assert.equal(config.hostRouting, false);
    assert.equal(config.handoff, false);
    assert.deepEqual(config.sites.map((s) => [s.baseUrl.href, s.redirectUri]), [['https://auth.example.com/', 'https://auth.example.com/callback']]);
    assert.deepEqual(problemsOf({ ...base, LATCH_ALLOWED_ORIGINS: 'https://www.example.com' }), ['LATCH_BASE_URL']);
  });
});


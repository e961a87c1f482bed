import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../helpers/config.ts';

const valid = { LATCH_ISSUER: 'https://login.example.com', ...BASE_ENV };

describe('loadConfig', () => {
  it('accepts a complete configuration and derives the redirect URI', () => {
    const config = loadConfig(valid);
    assert.equal(config.redirectUri, 'https://auth.example.com/callback');
    assert.deepEqual(config.allowedOrigins, ['https://www.example.com', 'https://shop.example.com']);
    assert.equal(config.scopes, 'openid profile email offline_access');
    assert.equal(config.port, 8787);
    assert.ok(Object.isFrozen(config));
  });

  for (const name of Object.keys(valid)) {
    it(`names ${name} when it is missing`, () => {
      assert.deepEqual(problemsOf({ ...valid, [name]: undefined }), [name]);
    });
  }

  it('refuses a cookie secret shorter than 32 characters', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_COOKIE_SECRET: 'short' }), ['LATCH_COOKIE_SECRET']);
  });

  it('refuses http:// unless LATCH_ALLOW_INSECURE_HTTP=true', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_BASE_URL: 'http://auth.example.com' }), ['LATCH_BASE_URL']);
    assert.deepEqual(problemsOf({ ...valid, LATCH_BASE_URL: 'http://auth.example.com', LATCH_ALLOW_INSECURE_HTTP: 'true' }), []);
  });

  it('refuses allowed origins that are not bare origins', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_ALLOWED_ORIGINS: 'https://www.example.com/path' }), ['LATCH_ALLOWED_ORIGINS', 'LATCH_ALLOWED_ORIGINS']);
  });

  it('refuses a post-logout redirect off the allowed origins', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_POST_LOGOUT_REDIRECT_URI: 'https://evil.example/' }), ['LATCH_POST_LOGOUT_REDIRECT_URI']);
  });

  it('refuses alg none and a bad PORT', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_ID_TOKEN_ALG: 'none', PORT: 'eighty' }).sort(), ['LATCH_ID_TOKEN_ALG', 'PORT']);
  });

  it('refuses an HMAC LATCH_ID_TOKEN_ALG (ID tokens are checked against published keys only)', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_ID_TOKEN_ALG: 'HS256' }), ['LATCH_ID_TOKEN_ALG']);
    assert.deepEqual(problemsOf({ ...valid, LATCH_ID_TOKEN_ALG: 'ES256' }), []);
  });

  it('reports every problem at once', () => {
    assert.deepEqual(problemsOf({}).sort(), ['LATCH_ALLOWED_ORIGINS', 'LATCH_BASE_URL', 'LATCH_CLIENT_ID', 'LATCH_CLIENT_SECRET', 'LATCH_COOKIE_SECRET', 'LATCH_ISSUER']);
  });
});

describe('bff/server.ts start-up', () => {
  it('exits 1 naming the missing variable, without a stack trace', () => {
    const server = fileURLToPath(new URL('../../bff/server.ts', import.meta.url));
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', ...valid };
    delete env['LATCH_COOKIE_SECRET'];
    const run = spawnSync(process.execPath, ['--import', 'tsx', server], { env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /LATCH_COOKIE_SECRET/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });
});

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../bff/config.ts';
import { ConfigError } from '../../bff/errors.ts';
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

/** The problems loadConfig reports, with their words. */
function problemsWithWords(env: Record<string, string | undefined>): Array<{ variable: string; problem: string }> {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  return [];
}

/** Weak and placeholder cookie secrets, all 32 characters or more (the old rule let each through). */
const WEAK_SECRETS: Record<string, string> = {
  '32 × a': 'a'.repeat(32),
  '40 × 0': '0'.repeat(40),
  'changeme…': 'changeme-changeme-changeme-changeme',
  'changeme, once, padded': 'changeme-K8vQ2xZr7LmP4tWn9BcY3hJd6FgS',
  'a sentence with "secret"': 'my-super-secret-cookie-key-for-latch',
  'a word with "password"': 'Password1Password2Password3Password4',
  'abcd eight times': 'abcd'.repeat(8),
  'the digits four times over': '0123456789'.repeat(4),
  'the alphabet and the digits': 'abcdefghijklmnopqrstuvwxyz0123456789',
  'ten random characters, four times': 'q7Zp2mXkL9'.repeat(4),
  'one character changed at the end': `${'a'.repeat(31)}b`,
};

describe('LATCH_COOKIE_SECRET must be strong (bff/secret-strength.ts)', () => {
  for (const [name, secret] of Object.entries(WEAK_SECRETS)) {
    it(`refuses ${name}, naming the variable and how to make a good one, without echoing it`, () => {
      const problems = problemsWithWords({ ...valid, LATCH_COOKIE_SECRET: secret });
      assert.deepEqual(problems.map((p) => p.variable), ['LATCH_COOKIE_SECRET']);
      assert.match(problems[0]!.problem, /openssl rand -hex 32/);
      assert.equal(problems[0]!.problem.includes(secret), false, 'the secret is never echoed');
    });
  }

  it('refuses a weak key among several (a weak old key opens cookies too), saying which', () => {
    const good = randomBytes(32).toString('base64url');
    const problems = problemsWithWords({ ...valid, LATCH_COOKIE_SECRET: `${good},${'a'.repeat(32)}` });
    assert.deepEqual(problems.map((p) => p.variable), ['LATCH_COOKIE_SECRET']);
    assert.match(problems[0]!.problem, /^secret 2 of 2 /);
  });

  it('accepts every kind of secret the tests, dev/start and the docs make: 500 of each, none refused', () => {
    const generators: Record<string, () => string> = {
      'randomBytes(32) base64url (tests, dev/start)': () => randomBytes(32).toString('base64url'),
      'openssl rand -hex 32': () => randomBytes(32).toString('hex'),
      'openssl rand -base64 32': () => randomBytes(32).toString('base64'),
    };
    for (const [name, make] of Object.entries(generators)) {
      for (let i = 0; i < 500; i++) {
        const secret = make();
        assert.deepEqual(problemsOf({ ...valid, LATCH_COOKIE_SECRET: secret }), [], `${name}: ${secret}`);
      }
    }
  });

  it('accepts what the openssl commands in the docs print', { skip: spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not installed' }, () => {
    for (const args of [['rand', '-hex', '32'], ['rand', '-base64', '32']]) {
      for (let i = 0; i < 5; i++) {
        const secret = execFileSync('openssl', args, { encoding: 'utf8' }).trim();
        assert.deepEqual(problemsOf({ ...valid, LATCH_COOKIE_SECRET: secret }), [], `openssl ${args.join(' ')}`);
      }
    }
  });

  it('latch-bff --check-config refuses a weak secret: exit 1, the variable and the fix named, the secret never printed', () => {
    const cli = fileURLToPath(new URL('../../bff/cli.ts', import.meta.url));
    for (const secret of ['a'.repeat(32), 'changeme-changeme-changeme-changeme', '0'.repeat(40)]) {
      const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', ...valid, LATCH_COOKIE_SECRET: secret };
      const run = spawnSync(process.execPath, ['--import', 'tsx', cli, '--check-config'], { env, encoding: 'utf8', timeout: 20_000 });
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stderr, /LATCH_COOKIE_SECRET: .*openssl rand -hex 32/);
      assert.doesNotMatch(run.stdout, /configuration OK/);
      assert.equal(`${run.stdout}${run.stderr}`.includes(secret), false, 'the secret is never printed');
    }
  });
});

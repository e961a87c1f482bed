/** The sessions section (bff/config/sessions.ts): LATCH_COOKIE_SECRET, the lifetimes, LATCH_SESSION_STORE, Redis. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../bff/config.ts';
import { ConfigError } from '../../../bff/errors.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';

const valid = { LATCH_ISSUER: 'https://login.example.com', ...BASE_ENV };

describe('sessions: lifetimes and store', () => {
  it('has documented defaults', () => {
    const c = loadConfig(valid);
    assert.equal(c.sessionMaxAge, 28_800);
    assert.equal(c.sessionIdleTimeout, 1800);
    assert.equal(c.sessionStore, 'cookie');
    assert.equal(c.redisUrl, undefined);
    assert.equal(c.redisPrefix, 'latch:');
    assert.equal(c.redisTimeoutMs, 1000);
  });

  it('takes lifetimes from a minute to 400 days', () => {
    const c = loadConfig({ ...valid, LATCH_SESSION_MAX_AGE: '34560000', LATCH_SESSION_IDLE_TIMEOUT: '60' });
    assert.deepEqual([c.sessionMaxAge, c.sessionIdleTimeout], [34_560_000, 60]);
    for (const bad of ['59', '34560001', '1h']) {
      assert.deepEqual(problemsOf({ ...valid, LATCH_SESSION_MAX_AGE: bad, LATCH_SESSION_IDLE_TIMEOUT: bad }), ['LATCH_SESSION_MAX_AGE', 'LATCH_SESSION_IDLE_TIMEOUT'], bad);
    }
  });

  it('requires LATCH_REDIS_URL for LATCH_SESSION_STORE=redis, and never echoes the URL', () => {
    assert.throws(() => loadConfig({ ...valid, LATCH_SESSION_STORE: 'redis' }), /LATCH_REDIS_URL: is required/);
    assert.throws(() => loadConfig({ ...valid, LATCH_SESSION_STORE: 'disk' }), /LATCH_SESSION_STORE/);
    assert.throws(
      () => loadConfig({ ...valid, LATCH_REDIS_URL: 'http://:hunter2@redis' }),
      (err: Error) => /LATCH_REDIS_URL/.test(err.message) && !err.message.includes('hunter2'),
    );
    const c = loadConfig({ ...valid, LATCH_SESSION_STORE: 'redis', LATCH_REDIS_URL: 'rediss://:pw@redis.internal:6380/2' });
    assert.equal(c.sessionStore, 'redis');
  });
});

describe('LATCH_COOKIE_SECRET', () => {
  it('refuses a cookie secret shorter than 32 characters', () => {
    assert.deepEqual(problemsOf({ ...valid, LATCH_COOKIE_SECRET: 'short' }), ['LATCH_COOKIE_SECRET']);
  });

  it('takes several, comma-separated, newest first', () => {
    const [a, b] = [randomBytes(32).toString('hex'), randomBytes(32).toString('base64url')];
    assert.deepEqual(loadConfig({ ...valid, LATCH_COOKIE_SECRET: ` ${a} , ${b} ,` }).cookieSecrets, [a, b]);
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
    const cli = fileURLToPath(new URL('../../../bff/cli.ts', import.meta.url));
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

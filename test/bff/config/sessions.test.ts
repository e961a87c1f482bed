/** The sessions section (bff/config/sessions.ts): LATCH_COOKIE_SECRET, the lifetimes, LATCH_SESSION_STORE, Redis. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../bff/config.ts';
import { parseRedisTarget } from '../../../bff/config/redis.ts';
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

describe('Redis Cluster and Sentinel: LATCH_REDIS_CLUSTER_NODES, redis+sentinel:// (bff/config/redis.ts)', () => {
  const problems = (env: Record<string, string>) => problemsWithWords({ ...valid, ...env });

  it('takes a cluster from host:port seeds, or from rediss:// seeds with credentials (ElastiCache: the configuration endpoint)', () => {
    const c = loadConfig({ ...valid, LATCH_SESSION_STORE: 'redis', LATCH_REDIS_CLUSTER_NODES: ' 10.0.0.1:7000 , 10.0.0.2:7001,' });
    assert.deepEqual(c.redisClusterNodes, ['10.0.0.1:7000', '10.0.0.2:7001']);
    assert.equal(c.redisUrl, undefined);
    assert.deepEqual(parseRedisTarget(undefined, c.redisClusterNodes), { mode: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }], tls: false });
    const seed = 'rediss://latch:s3cr%40t@clustercfg.shop.abc123.euw1.cache.amazonaws.com:6379';
    assert.deepEqual(parseRedisTarget(undefined, [seed]), {
      mode: 'cluster', nodes: [{ host: 'clustercfg.shop.abc123.euw1.cache.amazonaws.com', port: 6379 }], tls: true, username: 'latch', password: 's3cr@t',
    });
    assert.deepEqual(problems({ LATCH_REDIS_CLUSTER_NODES: seed }), []);
  });

  it('takes a Sentinel URL: the sentinels, the master\'s name, the db, the nodes\' and the sentinels\' credentials, TLS', () => {
    assert.deepEqual(parseRedisTarget('redis+sentinel://10.0.0.5:26379,10.0.0.6,[::1]:26380/mymaster', undefined), {
      mode: 'sentinel', sentinels: [{ host: '10.0.0.5', port: 26379 }, { host: '10.0.0.6', port: 26379 }, { host: '::1', port: 26380 }], name: 'mymaster', db: 0, tls: false,
    });
    assert.deepEqual(parseRedisTarget('rediss+sentinel://app:pw%2F1@s1:26379,s2:26379/cache?db=2&sentinelPassword=sp', undefined), {
      mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'cache', db: 2, tls: true, username: 'app', password: 'pw/1', sentinelPassword: 'sp',
    });
    const c = loadConfig({ ...valid, LATCH_SESSION_STORE: 'redis', LATCH_REDIS_URL: 'redis+sentinel://:pw@s1:26379,s2:26379,s3:26379/mymaster' });
    assert.equal(c.sessionStore, 'redis');
    // One Redis, as before.
    assert.deepEqual(parseRedisTarget('rediss://:pw@redis.internal:6380/2', undefined), { mode: 'single', url: 'rediss://:pw@redis.internal:6380/2' });
  });

  it('refuses what it cannot use, naming the variable, never echoing a password', () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ LATCH_REDIS_URL: 'redis://r:6379', LATCH_REDIS_CLUSTER_NODES: 'a:1' }, 'LATCH_REDIS_CLUSTER_NODES', /not both/],
      [{ LATCH_REDIS_CLUSTER_NODES: 'a:1,not a host' }, 'LATCH_REDIS_CLUSTER_NODES', /host:port/],
      [{ LATCH_REDIS_CLUSTER_NODES: 'a:99999' }, 'LATCH_REDIS_CLUSTER_NODES', /host:port/],
      [{ LATCH_REDIS_CLUSTER_NODES: 'a:1,rediss://:hunter2@b:2' }, 'LATCH_REDIS_CLUSTER_NODES', /mixes/],
      [{ LATCH_REDIS_CLUSTER_NODES: 'rediss://:hunter2@a:1,redis://:hunter2@b:2' }, 'LATCH_REDIS_CLUSTER_NODES', /one scheme/],
      [{ LATCH_REDIS_CLUSTER_NODES: 'rediss://:hunter2@a:1,rediss://:hunter3@b:2' }, 'LATCH_REDIS_CLUSTER_NODES', /credentials/],
      [{ LATCH_REDIS_CLUSTER_NODES: 'rediss://:hunter2@a:1/3' }, 'LATCH_REDIS_CLUSTER_NODES', /database 0/],
      [{ LATCH_REDIS_CLUSTER_NODES: 'http://:hunter2@a:1' }, 'LATCH_REDIS_CLUSTER_NODES', /redis:\/\//],
      [{ LATCH_REDIS_URL: 'redis+sentinel://:hunter2@s1:26379' }, 'LATCH_REDIS_URL', /master name/],
      [{ LATCH_REDIS_URL: 'redis+sentinel://:hunter2@s1:26379,s 2/m' }, 'LATCH_REDIS_URL', /sentinel that is not host:port/],
      [{ LATCH_REDIS_URL: 'redis+sentinel://:hunter2@s1/m?db=16' }, 'LATCH_REDIS_URL', /db/],
      [{ LATCH_REDIS_URL: 'redis+sentinel://:hunter2@s1/m?password=hunter2' }, 'LATCH_REDIS_URL', /query/],
      [{ LATCH_REDIS_URL: 'redis-sentinel://:hunter2@s1/m' }, 'LATCH_REDIS_URL', /redis:\/\//],
      [{ LATCH_REDIS_CLUSTER_NODES: 'a:1', LATCH_REDIS_PREFIX: '{latch}:' }, 'LATCH_REDIS_PREFIX', /one slot/],
    ];
    for (const [env, variable, words] of cases) {
      const found = problems(env);
      assert.deepEqual(found.map((p) => p.variable), [variable], JSON.stringify(env));
      assert.match(found[0]!.problem, words, JSON.stringify(env));
      assert.equal(found[0]!.problem.includes('hunter2'), false, 'never echoed');
    }
    // LATCH_SESSION_STORE=redis is satisfied by a cluster; a braced prefix is fine on one Redis.
    assert.deepEqual(problems({ LATCH_SESSION_STORE: 'redis', LATCH_REDIS_CLUSTER_NODES: 'a:1' }), []);
    assert.deepEqual(problems({ LATCH_REDIS_URL: 'redis://r:6379', LATCH_REDIS_PREFIX: '{latch}:' }), []);
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

/**
 * Valid settings that weaken a deployment are never started silently: `configWarnings()`
 * (bff/config/warnings.ts) is the one list, and each entry of the build says it, naming the variable:
 * `latch-bff --check-config` prints it, the container entry (dist/bff/server.js) logs it at warn at
 * start-up, and the Lambda entry (dist/bff/lambda.js) at warn on its cold start. The entries are the
 * built bundles (`npm run build` first), each started in its own node process as it is deployed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { configWarnings, HEADER_LIMIT_WARNING_BYTES } from '../../bff/config/warnings.ts';
import { loadConfig } from '../../bff/config.ts';
import { freePort } from '../helpers/net.ts';
import { fixture } from './aws-gateway.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist/bff');

/** A production-like configuration: https everywhere, default limits. Nothing is fetched at start-up. */
function secure(extra: Record<string, string> = {}): Record<string, string> {
  return {
    LATCH_ISSUER: 'https://id.example.com',
    LATCH_CLIENT_ID: 'latch-warnings',
    LATCH_CLIENT_SECRET: randomBytes(24).toString('base64url'),
    LATCH_BASE_URL: 'https://auth.example.com',
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOWED_ORIGINS: 'https://www.example.com',
    ...extra,
  };
}

/** Each warning, the setting that causes it. */
const CASES: Array<[variable: string, env: Record<string, string>]> = [
  ['LATCH_ALLOW_INSECURE_HTTP', { LATCH_ALLOW_INSECURE_HTTP: 'true' }],
  ['LATCH_BASE_URL', { LATCH_ALLOW_INSECURE_HTTP: 'true', LATCH_BASE_URL: 'http://auth.example.com' }],
  ['LATCH_SESSION_IDLE_TIMEOUT', { LATCH_SESSION_IDLE_TIMEOUT: '7200', LATCH_SESSION_MAX_AGE: '3600' }],
  ['LATCH_RATE_LIMIT', { LATCH_RATE_LIMIT: '0' }],
  ['LATCH_MAX_HEADER_BYTES', { LATCH_MAX_HEADER_BYTES: String(64 * 1024) }],
  ['LATCH_ENABLE_PASSWORD_GRANT', { LATCH_ENABLE_PASSWORD_GRANT: 'true' }],
];
/** Every warning at once (an http base URL implies the insecure opt-in). */
const ALL = Object.assign({}, ...CASES.map(([, env]) => env)) as Record<string, string>;
const VARIABLES = CASES.map(([variable]) => variable);

const variablesOf = (env: Record<string, string>) => configWarnings(loadConfig(secure(env))).map((w) => w.variable);

describe('configWarnings(): the settings that start with a warning', () => {
  it('warns about nothing for https with the default limits', () => {
    assert.deepEqual(variablesOf({}), []);
  });

  for (const [variable, env] of CASES) {
    it(`warns about ${variable}, naming it`, () => {
      const warnings = configWarnings(loadConfig(secure(env)));
      const mine = warnings.filter((w) => w.variable === variable);
      assert.equal(mine.length, 1, JSON.stringify(warnings));
      assert.ok(mine[0]!.message.startsWith(variable), mine[0]!.message);
    });
  }

  it('warns about an idle timeout equal to the absolute one (it never ends a session either), not a shorter one', () => {
    assert.ok(variablesOf({ LATCH_SESSION_IDLE_TIMEOUT: '3600', LATCH_SESSION_MAX_AGE: '3600' }).includes('LATCH_SESSION_IDLE_TIMEOUT'));
    assert.deepEqual(variablesOf({ LATCH_SESSION_IDLE_TIMEOUT: '3599', LATCH_SESSION_MAX_AGE: '3600' }), []);
  });

  it(`warns about header limits above ${HEADER_LIMIT_WARNING_BYTES} bytes only`, () => {
    assert.deepEqual(variablesOf({ LATCH_MAX_HEADER_BYTES: String(HEADER_LIMIT_WARNING_BYTES) }), []);
    assert.deepEqual(variablesOf({ LATCH_MAX_HEADER_BYTES: String(HEADER_LIMIT_WARNING_BYTES + 1) }), ['LATCH_MAX_HEADER_BYTES']);
  });

  it('names each http site of LATCH_SITES', () => {
    const sites = JSON.stringify([{ baseUrl: 'http://auth.shop-a.example', allowedOrigins: ['https://shop-a.example'] }, { baseUrl: 'https://auth.shop-b.example', allowedOrigins: ['https://shop-b.example'] }]);
    const warnings = configWarnings(loadConfig(secure({ LATCH_ALLOW_INSECURE_HTTP: 'true', LATCH_SITES: sites })));
    const http = warnings.filter((w) => w.variable.includes('LATCH_SITES'));
    assert.equal(http.length, 1);
    assert.match(http[0]!.message, /auth\.shop-a\.example/);
  });
});

/** The warn lines (pino level 40) of an entry's output, by variable. */
function warnLines(output: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { level: number; variable?: string; msg: string };
    if (entry.level === 40 && entry.variable) {
      assert.ok(entry.msg.includes(entry.variable.split(' ')[0]!), `the line names its variable: ${entry.msg}`);
      seen.set(entry.variable, (seen.get(entry.variable) ?? 0) + 1);
    }
  }
  return seen;
}

function requireBuild(file: string): string {
  const path = join(dist, file);
  assert.ok(existsSync(path), `${path} is missing: run \`npm run build\` first`);
  return path;
}

/** Starts dist/bff/server.js, waits for "listening", stops it; resolves with its stdout. */
async function serverOutput(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [requireBuild('server.js')], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env, PORT: String(port), LATCH_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!out.includes('latch-bff listening') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 25));
  child.kill('SIGTERM');
  await exited;
  assert.match(out, /latch-bff listening/, `the server did not start: ${err}`);
  return out;
}

const LAMBDA_CHILD = `
const { handler } = await import(process.env.WARNINGS_BUNDLE);
// Two invocations of one instance: the configuration is read, and warned about, at the first only.
for (let i = 0; i < 2; i++) {
  const result = await handler(JSON.parse(process.env.WARNINGS_EVENT), {});
  process.stderr.write('status ' + result.statusCode + '\\n');
}
`;

/** Imports dist/bff/lambda.js in a fresh node (a cold start) and invokes it twice with a /healthz event. */
function lambdaOutput(env: Record<string, string>): string {
  const event = fixture('function-url');
  Object.assign(event, { rawPath: '/healthz', rawQueryString: '', body: undefined, isBase64Encoded: false });
  (event['requestContext'] as { http: Record<string, unknown> }).http = { method: 'GET', path: '/healthz', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'warnings' };
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', LAMBDA_CHILD], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env, WARNINGS_BUNDLE: pathToFileURL(requireBuild('lambda.js')).href, WARNINGS_EVENT: JSON.stringify(event) },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.match(run.stderr, /status 200\nstatus 200/, run.stderr);
  return run.stdout;
}

describe('each built entry says every warning, naming the variable, once', () => {
  it('latch-bff --check-config (dist/bff/cli.js) prints them, exit 0', () => {
    const check = (env: Record<string, string>) => spawnSync(process.execPath, [requireBuild('cli.js'), '--check-config'], { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });
    const warned = check(secure(ALL));
    assert.equal(warned.status, 0, warned.stderr);
    const lines = warned.stdout.split('\n').filter((l) => l.startsWith('warning: '));
    for (const variable of VARIABLES) assert.equal(lines.filter((l) => l.startsWith(`warning: ${variable}`)).length, 1, `${variable} in:\n${lines.join('\n')}`);
    const clean = check(secure());
    assert.equal(clean.status, 0, clean.stderr);
    assert.deepEqual(clean.stdout.split('\n').filter((l) => l.startsWith('warning: LATCH_')), []);
  });

  it('the container entry (dist/bff/server.js) logs them at warn at start-up, before "listening"', async () => {
    const out = await serverOutput(secure(ALL));
    const seen = warnLines(out);
    assert.deepEqual([...seen.keys()].sort(), [...VARIABLES].sort());
    assert.ok([...seen.values()].every((n) => n === 1), JSON.stringify([...seen]));
    assert.ok(out.indexOf('"variable"') < out.indexOf('latch-bff listening'));
    assert.equal(warnLines(await serverOutput(secure())).size, 0, 'a secure configuration starts without a warning');
  });

  it('the Lambda entry (dist/bff/lambda.js) logs them at warn on its cold start, once', () => {
    const seen = warnLines(lambdaOutput(secure(ALL)));
    assert.deepEqual([...seen.keys()].sort(), [...VARIABLES].sort());
    assert.ok([...seen.values()].every((n) => n === 1), JSON.stringify([...seen]));
    assert.equal(warnLines(lambdaOutput(secure())).size, 0);
  });
});

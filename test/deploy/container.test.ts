/**
 * The container image, without a Docker engine: the BFF is built by the same script the Dockerfile's
 * build stage runs, laid out as the runtime stage lays it out (dist/ in a WORKDIR, nothing else: no
 * node_modules, no package.json beside it), and started with the Dockerfile's own CMD, ENV and
 * HEALTHCHECK, read from the Dockerfile. Two differences, both forced by the machine: LATCH_HOST is
 * 127.0.0.1 instead of the image's 0.0.0.0 (servers here bind to loopback only), and PORT is a free port.
 *
 * Graceful shutdown is checked with a real request in flight: the login's token exchange goes through a
 * slow proxy (LATCH_TOKEN_ENDPOINT), SIGTERM arrives while the BFF waits on it, and the test sees new
 * connections refused, the callback still answered with its cookies, and the process exit 0 within 10 s.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { buildBff } from '../../scripts/build-bff.ts';
import { startDevProvider, type DevProvider } from '../../dev/provider.ts';
import { HttpClient, signIn } from '../helpers/http.ts';
import { freePort, listen, trickle, type Listening } from '../helpers/net.ts';
import { all, env as dockerEnv, execForm, last, parseDockerfile, type Stage } from './dockerfile.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SITE = 'http://www.latch.test:8080';
const SLOW_TOKEN_MS = 3000;
/** Short, so that a slow client's fate is seen quickly (default 30 s). */
const REQUEST_TIMEOUT_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when a new TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the container image (Dockerfile), run as Docker would run it', () => {
  let runtime: Stage;
  let app: string; // the runtime stage's WORKDIR
  let work: string;
  let provider: DevProvider;
  let tokenProxy: Listening;
  let armed: (() => void) | undefined;
  let port: number;
  let bffUrl: string;
  let child: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  const stdout: string[] = [];
  const stderr: string[] = [];
  let baseEnv: Record<string, string>;

  before(async () => {
    const stages = parseDockerfile(join(root, 'Dockerfile'));
    runtime = stages.at(-1)!;
    work = await mkdtemp(join(tmpdir(), 'latch-image-'));
    app = join(work, (last(runtime, 'WORKDIR') ?? '/app').replace(/^\//, ''));
    // The runtime stage: `COPY --from=build /src/dist ./dist`, built by the build stage's `npm run build`.
    await buildBff({ outdir: join(app, 'dist/bff') });
    // The widget half of `npm run build` (vite) belongs to another suite: two stand-in files.
    await writeFile(join(app, 'dist/latch.js'), 'export const latch = "stand-in";\n');
    await writeFile(join(app, 'dist/latch-de.js'), 'export default {};\n');

    port = await freePort();
    bffUrl = `http://127.0.0.1:${port}`;
    const clientId = 'latch-container';
    const clientSecret = randomBytes(24).toString('base64url');
    provider = await startDevProvider({
      clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [`${bffUrl}/callback`], post_logout_redirect_uris: [`${SITE}/`] }],
    });
    // A token endpoint that can be made slow: the in-flight request for the shutdown test.
    tokenProxy = await listen(async (req, res) => {
      const body = await readBody(req);
      if (armed) {
        const arrived = armed;
        armed = undefined;
        arrived();
        await sleep(SLOW_TOKEN_MS);
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'accept']) if (req.headers[name]) headers[name] = String(req.headers[name]);
      const upstream = await fetch(`${provider.issuer}/token`, { method: req.method ?? 'POST', headers, ...(body.length ? { body: new Uint8Array(body) } : {}) });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });

    baseEnv = {
      PATH: process.env['PATH'] ?? '',
      ...dockerEnv(runtime),
      LATCH_HOST: '127.0.0.1',
      PORT: String(port),
      LATCH_ISSUER: provider.issuer,
      LATCH_TOKEN_ENDPOINT: `${tokenProxy.url}/token`,
      LATCH_CLIENT_ID: clientId,
      LATCH_CLIENT_SECRET: clientSecret,
      LATCH_BASE_URL: bffUrl,
      LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
      LATCH_ALLOWED_ORIGINS: SITE,
      LATCH_ALLOW_INSECURE_HTTP: 'true',
      LATCH_HTTP_TIMEOUT_MS: String(SLOW_TOKEN_MS + 3000),
      LATCH_METRICS: 'true',
      LATCH_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    };
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await tokenProxy?.close();
    await provider?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is multi-stage, runs as a non-root user, checks /healthz with node, and copies dist/ only', () => {
    const stages = parseDockerfile(join(root, 'Dockerfile'));
    assert.ok(stages.length >= 2, 'multi-stage');
    const user = last(runtime, 'USER');
    assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`);
    const healthcheck = last(runtime, 'HEALTHCHECK');
    assert.ok(healthcheck, 'HEALTHCHECK');
    const check = execForm(healthcheck);
    assert.equal(check[0], 'node', 'a node-based check: the slim image has no curl');
    assert.ok(check.includes('--healthcheck'));
    assert.equal(dockerEnv(runtime)['NODE_ENV'], 'production');
    const copies = all(runtime, 'COPY');
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      assert.match(copy, /--from=\w+/, `the runtime stage copies from the build stage only: ${copy}`);
      assert.match(copy, /\/dist\s+\S*dist$/, `dist/ only (no node_modules, no sources): ${copy}`);
    }
    assert.equal(all(runtime, 'RUN').length, 0, 'no npm install in the runtime stage: the bundle has its dependencies');
    assert.deepEqual(execForm(last(runtime, 'CMD')!).slice(-1), ['dist/bff/server.js']);
    assert.ok(existsSync(join(root, '.dockerignore')));
    assert.match(readFileSync(join(root, '.dockerignore'), 'utf8'), /^node_modules$/m);
  });

  it('builds and runs on one pinned image: the Node 24 that CI tests (scripts/node24.sh) on slim Debian, installing with npm ci', () => {
    const stages = parseDockerfile(join(root, 'Dockerfile'));
    const tested = /^VERSION="\$\{NODE24_VERSION:-(\d+\.\d+\.\d+)\}"$/m.exec(readFileSync(join(root, 'scripts/node24.sh'), 'utf8'))?.[1];
    assert.ok(tested, 'scripts/node24.sh pins a Node 24 version');
    for (const stage of stages) {
      // A full version and a Debian release by name: no moving tag (`node:24`, `lts`, `slim`).
      const image = /^node:(\d+\.\d+\.\d+)-([a-z]+)-slim$/.exec(stage.from);
      assert.ok(image, `FROM ${stage.from}: pinned as node:<x.y.z>-<debian>-slim`);
      assert.equal(image[1], tested, `FROM ${stage.from}: the Node that CI runs the suite on`);
      assert.notEqual(image[2], 'bookworm', 'Debian 12 is past its regular security support (June 2026)');
    }
    const build = stages.find((stage) => all(stage, 'RUN').some((run) => /\bnpm run build\b/.test(run)));
    assert.ok(build, 'a stage runs npm run build');
    const installs = all(build, 'RUN').filter((run) => /\bnpm (ci|install|i)\b/.test(run));
    assert.deepEqual(installs.map((run) => /\bnpm ci\b/.test(run)), [true], `one install, with npm ci: ${installs.join(' | ')}`);
  });

  it('the built output runs without any node_modules', () => {
    for (let dir = app; ; dir = dirname(dir)) {
      assert.equal(existsSync(join(dir, 'node_modules')), false, `${dir}/node_modules must not exist for this test to mean anything`);
      if (dir === parse(dir).root) break;
    }
    assert.deepEqual(JSON.parse(readFileSync(join(app, 'dist/bff/package.json'), 'utf8')).type, 'module');
    assert.match(readFileSync(join(app, 'dist/bff/THIRD-PARTY-LICENSES.txt'), 'utf8'), /^koa@\S+ \(MIT\)$/m, 'the bundled packages\' licences ship with them');
  });

  it('refuses to start with a bad environment, naming the variable, and without a stack trace', () => {
    const cmd = execForm(last(runtime, 'CMD')!);
    const bad = { ...baseEnv };
    delete bad['LATCH_COOKIE_SECRET'];
    const run = spawnSync(process.execPath, cmd.slice(1), { cwd: app, env: bad, encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /LATCH_COOKIE_SECRET/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  it('latch-bff --check-config (the package bin) names every bad variable and exits 1, or 0 when all is well', () => {
    const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['latch-bff']!;
    assert.equal(bin, 'dist/bff/cli.js');
    assert.match(readFileSync(join(app, bin), 'utf8').split('\n')[0]!, /^#!\/usr\/bin\/env node$/);
    const bad = spawnSync(process.execPath, [bin, '--check-config'], {
      cwd: app,
      env: { PATH: baseEnv['PATH']!, LATCH_BASE_URL: 'ftp://x', LATCH_TRUST_PROXY: 'maybe' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(bad.status, 1);
    for (const variable of ['LATCH_ISSUER', 'LATCH_CLIENT_ID', 'LATCH_CLIENT_SECRET', 'LATCH_BASE_URL', 'LATCH_COOKIE_SECRET', 'LATCH_ALLOWED_ORIGINS', 'LATCH_TRUST_PROXY']) {
      assert.match(bad.stderr, new RegExp(`${variable}: `), variable);
    }
    const good = spawnSync(process.execPath, [bin, '--check-config'], { cwd: app, env: baseEnv, encoding: 'utf8', timeout: 20_000 });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /configuration OK/);
    assert.match(good.stdout, /latch\.js/, 'it found the widget beside the build');
    assert.equal(good.stdout.includes(baseEnv['LATCH_CLIENT_SECRET']!) || good.stdout.includes(baseEnv['LATCH_COOKIE_SECRET']!), false, 'no secret printed');
  });

  it('starts with the image CMD and answers /healthz, the HEALTHCHECK command and /readyz', async () => {
    const cmd = execForm(last(runtime, 'CMD')!);
    assert.equal(cmd[0], 'node');
    child = spawn(process.execPath, cmd.slice(1), { cwd: app, env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));

    const deadline = Date.now() + 15_000;
    let health: Response | undefined;
    while (Date.now() < deadline && child.exitCode === null) {
      health = await fetch(`${bffUrl}/healthz`).catch(() => undefined);
      if (health) break;
      await sleep(50);
    }
    assert.equal(health?.status, 200, `no /healthz; stderr: ${stderr.join('')}`);
    assert.match(stdout.join(''), /latch-bff listening/);

    const check = execForm(last(runtime, 'HEALTHCHECK')!);
    const run = spawnSync(process.execPath, check.slice(1), { cwd: app, env: baseEnv, encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 0, run.stderr);

    const ready = await fetch(`${bffUrl}/readyz`);
    assert.equal(ready.status, 200, await ready.clone().text());
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { provider: 'ok' });
  });

  it('serves the widget from the dist/ beside the build, under its alias and its content hash', async () => {
    const alias = await fetch(`${bffUrl}/latch.js`);
    assert.equal(alias.status, 200);
    assert.equal(await alias.text(), 'export const latch = "stand-in";\n');
    const manifest = (await (await fetch(`${bffUrl}/latch.manifest.json`)).json()) as Record<string, string>;
    const hashed = await fetch(`${bffUrl}/${manifest['latch.js']}`);
    assert.equal(hashed.status, 200);
    assert.equal(hashed.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  });

  it('signs in against oidc-provider, serves /me and signs out', async () => {
    const client = new HttpClient();
    const returnTo = `${SITE}/account`;
    const { finalUrl, callbackResult } = await signIn(client, `${bffUrl}/login?returnTo=${encodeURIComponent(returnTo)}`, provider.users[0]!);
    assert.equal(finalUrl.href, returnTo);
    assert.ok(callbackResult?.setCookies.some((c) => c.startsWith('latch=')));
    const me = await client.request(`${bffUrl}/me`, { headers: { origin: SITE } });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json<{ user: { email: string } }>().user.email, provider.users[0]!.email);
    const out = await client.request(`${bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
    assert.equal(out.status, 200);
    assert.equal((await client.request(`${bffUrl}/me`)).status, 401);
    const metrics = await (await fetch(`${bffUrl}/metrics`)).text();
    assert.match(metrics, /latch_logins_total\{result="success"\} 1/);
  });

  it('cuts a request body that trickles past LATCH_REQUEST_TIMEOUT_MS (408, connection closed)', async () => {
    const slow = await trickle(port, 'POST /backchannel-logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n', () => 'a');
    try {
      const bound = REQUEST_TIMEOUT_MS + 1500;
      const elapsed = await Promise.race([slow.closed, sleep(bound).then(() => undefined)]);
      assert.ok(elapsed !== undefined, `still open after ${bound} ms`);
      assert.ok(elapsed >= REQUEST_TIMEOUT_MS - 50, `closed after ${Math.round(elapsed)} ms`);
      assert.match(slow.answer(), /^HTTP\/1\.1 408 /);
    } finally {
      slow.stop();
    }
  });

  it('on SIGTERM stops accepting, finishes the request in flight, and exits 0 within 10 s', async () => {
    const client = new HttpClient();
    const tokenRequested = new Promise<void>((resolve) => {
      armed = resolve;
    });
    let settled = false;
    const login = signIn(client, `${bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/after`)}`, provider.users[0]!).finally(() => {
      settled = true;
    });
    await tokenRequested; // the BFF is inside /callback, waiting on the (slow) token exchange
    const signalledAt = performance.now();
    child.kill('SIGTERM');

    let closed = false;
    for (const until = Date.now() + 2000; Date.now() < until && !closed; ) {
      closed = await refused(port);
      if (!closed) await sleep(20);
    }
    assert.ok(closed, 'new connections are refused after SIGTERM');
    assert.equal(settled, false, 'while the callback is still in flight');

    const { finalUrl, callbackResult } = await login;
    assert.equal(callbackResult?.status, 302, 'the request in flight was answered');
    assert.ok(callbackResult?.setCookies.some((c) => c.startsWith('latch=')), 'with its session cookie');
    assert.equal(callbackResult?.headers.get('connection'), 'close', 'and without keeping its connection alive');
    assert.equal(finalUrl.href, `${SITE}/after`);

    const { code, signal, at } = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0, stderr.join(''));
    assert.ok(at - signalledAt < 10_000, `exited ${Math.round(at - signalledAt)} ms after SIGTERM`);
    const logs = stdout.join('');
    assert.match(logs, /shutting down/);
    assert.match(logs, /latch-bff stopped/);
  });
});

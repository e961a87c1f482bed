/**
 * `npm run bench`: Latch's performance figures, side by side with their baselines, measured in one run
 * on this machine, and checked against the targets of issue 8. Everything runs on 127.0.0.1 (free
 * ports), every load loop is bounded in requests and in time, and the whole run takes about 3–5 minutes.
 *
 *   npm run bench                 the full run; writes bench/results/latest.{json,md} and the tables in docs/bench.md and README.md
 *   npm run bench -- --quick      shorter runs, fewer rounds (for trying changes); results go to a temp folder
 *   npm run bench -- --node24     the same on Node 24 (bench/lib/node.ts); writes bench/results/latest-node24.{json,md} only
 *
 * What runs where (see docs/bench.md): this process is the load generator (autocannon, 32 connections)
 * and hosts the dev OpenID provider; every server under test is a child process of its own — the BFF
 * from its production bundle (built here from the current source), bare Koa, express-openid-connect,
 * the upstream API and the no-auth proxy.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DEMO_API_RESOURCE, DEMO_API_SCOPE } from '../dev/demo-api.ts';
import { startDevProvider, type DevProvider } from '../dev/provider.ts';
import { buildBff } from '../scripts/build-bff.ts';
import { measureColdStart } from '../test/deploy/cold-start.ts';
import { HttpClient, signIn } from '../test/helpers/http.ts';
import { freePort } from '../test/helpers/net.ts';
import { startChild, type ChildServer } from './lib/children.ts';
import { load, type LoadResult } from './lib/load.ts';
import { NODE24, runOnRequestedNode } from './lib/node.ts';
import { bffSessions, cookieHeader, eocCookies, eocSessionData, sealMany, sealOne } from './lib/sessions.ts';
import { renderMarkdown, renderTargetsMarkdown, renderText, type BenchReport, type Target } from './lib/report.ts';

const ROOT = resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');

const SETTINGS = {
  connections: 32,
  /** Seconds per measured run. */
  duration: QUICK ? 3 : 5,
  /** Seconds of unrecorded load before a server's first measured run (JIT, caches of the runtime). */
  warmup: QUICK ? 1 : 2,
  /** Measured runs per server, interleaved with its baseline's (A B A B …). */
  rounds: QUICK ? 1 : 3,
  /** Distinct sessions for the memory figure. */
  sessions: 10_000,
  /** Distinct, never-seen sessions per cold round, for each of the BFF and express-openid-connect. */
  coldPerRound: QUICK ? 2000 : 6000,
  refreshConcurrency: 100,
  coldStartRuns: QUICK ? 3 : 9,
};

const SITE = 'http://www.latch.test:8080';
const SCOPES = `openid profile email offline_access ${DEMO_API_SCOPE}`;
const REFERENCE_SDKS_BROTLI_KB: ReadonlyArray<[string, number]> = [
  ['oidc-client-ts', 16],
  ['@auth0/auth0-spa-js', 54],
  ['@descope/web-component', 45],
  ['Clerk', 71],
  ['Stytch', 81],
];

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// -------------------------------------------------------------------------------------------------------
// Build what the bench needs.

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const stat = statSync(join(dir, entry));
    if (stat.isFile()) newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

function ensureWidgetBuilt(): void {
  const bundle = join(ROOT, 'dist/latch.iife.js');
  const stale = !existsSync(bundle) || statSync(bundle).mtimeMs < newestMtime(join(ROOT, 'widget'));
  if (!stale) return;
  log('building the widget (dist/ is missing or older than widget/): npm run build:widget');
  const out = spawnSync('npm', ['run', 'build:widget'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (out.status !== 0) throw new Error('npm run build:widget failed');
}

// -------------------------------------------------------------------------------------------------------
// Small HTTP helpers (not load: single requests to check what the servers answer).

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function get(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { headers, agent: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.once('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.once('error', reject);
    req.end();
  });
}

async function expectOk(what: string, url: string, headers: Record<string, string>, opts: { noSetCookie?: boolean } = {}): Promise<Answer> {
  const answer = await get(url, headers);
  if (answer.status !== 200) throw new Error(`${what}: expected 200 from ${url}, got ${answer.status}: ${answer.text.slice(0, 300)}`);
  if (opts.noSetCookie && answer.headers['set-cookie']) throw new Error(`${what}: the session was rewritten (Set-Cookie) on a plain read; the measurement would not be of a read`);
  return answer;
}

function asCalls(provider: DevProvider): number {
  const c = provider.counts;
  return c.token + c.userinfo + c.authorization + c.revocation;
}

// -------------------------------------------------------------------------------------------------------
// Interleaved rounds.

type Measured = LoadResult & { /** The server process's CPU time (user + system) per 2xx answer, µs. */ cpuUsPerRequest: number };

/** One load run against a child server, with the CPU time the server spent on it. */
async function measure(server: ChildServer, opts: Parameters<typeof load>[0]): Promise<Measured> {
  const before = server.cpuMs();
  const result = await load(opts);
  return { ...result, cpuUsPerRequest: ((server.cpuMs() - before) * 1000) / Math.max(1, result.ok) };
}

interface Series {
  name: string;
  runs: Measured[];
  /** Mean of the rounds' 2xx rates. */
  rps: number;
  /** Server CPU per answer, µs, over all rounds. */
  cpuUs: number;
  p50: number;
  p99: number;
}

function series(name: string, runs: Measured[]): Series {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const invalid = runs.find((r) => r.non2xx > 0 || r.errors > 0 || r.timeouts > 0);
  if (invalid) throw new Error(`${name}: ${invalid.non2xx} non-2xx answers, ${invalid.errors} errors, ${invalid.timeouts} timeouts: the figure would not be of successful requests`);
  const ok = runs.reduce((a, r) => a + r.ok, 0);
  const cpuUs = runs.reduce((a, r) => a + r.cpuUsPerRequest * r.ok, 0) / Math.max(1, ok);
  return { name, runs, rps: mean(runs.map((r) => r.rps)), cpuUs, p50: mean(runs.map((r) => r.latencyP50)), p99: mean(runs.map((r) => r.latencyP99)) };
}

interface Contender {
  name: string;
  server: ChildServer;
  path: string;
  /** Headers for a run; called before every run (a fresh warm cookie each time). */
  headers: () => Promise<Record<string, string>>;
}

/** Warms each contender, then measures them in turn, `rounds` times (A B C A B C …). */
async function interleaved(contenders: Contender[]): Promise<Map<string, Series>> {
  for (const c of contenders) {
    log(`warm-up ${c.name} (${SETTINGS.warmup} s)`);
    await load({ url: c.server.url, path: c.path, headers: await c.headers(), duration: SETTINGS.warmup, connections: SETTINGS.connections });
  }
  const runs = new Map<string, Measured[]>(contenders.map((c) => [c.name, []]));
  for (let round = 1; round <= SETTINGS.rounds; round++) {
    for (const c of contenders) {
      const result = await measure(c.server, { url: c.server.url, path: c.path, headers: await c.headers(), duration: SETTINGS.duration, connections: SETTINGS.connections, maxSeconds: SETTINGS.duration + 20 });
      log(`round ${round}/${SETTINGS.rounds} ${c.name}: ${Math.round(result.rps)} req/s, ${Math.round(result.cpuUsPerRequest)} µs server CPU/req, p99 ${result.latencyP99} ms`);
      runs.get(c.name)!.push(result);
    }
  }
  return new Map(contenders.map((c) => [c.name, series(c.name, runs.get(c.name)!)]));
}

/** Fires `n` requests at once, each on its own connection. */
async function burst(n: number, url: string, headers: Record<string, string>): Promise<Answer[]> {
  return Promise.all(Array.from({ length: n }, () => get(url, headers)));
}

// -------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  await runOnRequestedNode();
  const started = performance.now();
  const workDir = mkdtempSync(join(tmpdir(), 'latch-bench-'));
  const logDir = join(workDir, 'logs');
  mkdirSync(logDir);
  const children: ChildServer[] = [];
  let provider: DevProvider | undefined;
  const loadBefore = loadavg();
  try {
    // 0. Builds: the widget if dist/ lacks it (or is older than widget/), the BFF bundles always, from
    //    the current source into a temp folder (dist/ is left alone: other work may be using it).
    ensureWidgetBuilt();
    log('building the BFF bundles into a temp folder');
    const bffDir = join(workDir, 'bff');
    await buildBff({ outdir: bffDir });

    // 1. The dev provider (in this process; idle while load runs) and the servers.
    const [bffPort, eocPort, koaPort, upstreamPort, proxyPort, memPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const bffUrl = `http://127.0.0.1:${bffPort}`;
    const eocUrl = `http://127.0.0.1:${eocPort}`;
    const bffClient = { id: `latch-bench-${randomBytes(3).toString('hex')}`, secret: randomBytes(24).toString('base64url') };
    const eocClient = { id: `eoc-bench-${randomBytes(3).toString('hex')}`, secret: randomBytes(24).toString('base64url') };
    provider = await startDevProvider({
      // JWT access tokens (RFC 9068), as most hosted providers issue: a realistic token set in every session.
      jwtAccessTokens: { resource: DEMO_API_RESOURCE, scopes: [DEMO_API_SCOPE] },
      clients: [
        { client_id: bffClient.id, client_secret: bffClient.secret, redirect_uris: [`${bffUrl}/callback`], grant_types: ['authorization_code', 'refresh_token'] },
        { client_id: eocClient.id, client_secret: eocClient.secret, redirect_uris: [`${eocUrl}/callback`], grant_types: ['authorization_code', 'refresh_token'] },
      ],
    });
    const user = provider.users[0]!;
    const tsx = (file: string) => ['--import', 'tsx', join(ROOT, file)];

    const upstream = await startChild({ name: 'upstream', args: tsx('bench/servers/upstream.ts'), port: upstreamPort, env: {}, logDir, cwd: ROOT });
    children.push(upstream);

    const bffEnv: Record<string, string> = {
      LATCH_ISSUER: provider.issuer,
      LATCH_CLIENT_ID: bffClient.id,
      LATCH_CLIENT_SECRET: bffClient.secret,
      LATCH_BASE_URL: bffUrl,
      LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
      LATCH_ALLOWED_ORIGINS: SITE,
      LATCH_ALLOW_INSECURE_HTTP: 'true',
      LATCH_SCOPES: SCOPES,
      LATCH_API_ROUTES: `echo=${upstream.url}`,
      LATCH_LOG_LEVEL: 'warn',
    };
    const bffArgs = [join(bffDir, 'server.js')];
    const bff = await startChild({ name: 'bff', args: bffArgs, port: bffPort, env: bffEnv, logDir, readyPath: '/healthz' });
    children.push(bff);

    const eocSecret = randomBytes(32).toString('base64url');
    const eoc = await startChild({
      name: 'express-openid-connect',
      args: tsx('bench/servers/eoc.ts'),
      port: eocPort,
      env: { EOC_ISSUER: provider.issuer, EOC_CLIENT_ID: eocClient.id, EOC_CLIENT_SECRET: eocClient.secret, EOC_SECRET: eocSecret, EOC_SCOPE: SCOPES },
      logDir,
      cwd: ROOT,
    });
    children.push(eoc);

    // 2. One real sign-in at each, through the dev provider's login form.
    log('signing in once at the BFF and once at express-openid-connect');
    const sessions = bffSessions(bffEnv);
    const bffBrowser = new HttpClient();
    await signIn(bffBrowser, `${bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`, user);
    const signedIn = await sessions.read(await bffBrowser.jar.getCookieString(bffUrl));
    if (!signedIn) throw new Error('the BFF sign-in left no readable session cookie');
    const template = signedIn.session;

    const eocBrowser = new HttpClient();
    await signIn(eocBrowser, `${eocUrl}/login`, user);
    const eocJar = await eocBrowser.jar.getCookies(eocUrl);
    const eocPairs = eocJar.filter((c) => /^appSession(\.\d+)?$/.test(c.key));
    if (eocPairs.length !== 1) throw new Error(`express-openid-connect's sign-in left ${eocPairs.length} appSession cookies (chunked sessions are not minted by this bench)`);
    const eocWarm = `appSession=${eocPairs[0]!.value}`;
    const eocData = await eocSessionData(eocPairs[0]!.value, eocSecret);

    const baseHeaders = { origin: SITE, accept: 'application/json' };
    const warmBff = async () => ({ ...baseHeaders, cookie: await sealOne(sessions, template) });
    const bffCookieBytes = (await warmBff()).cookie.length;
    const me = await expectOk('BFF /me', `${bffUrl}/me`, await warmBff(), { noSetCookie: true });
    await expectOk('express-openid-connect /me', `${eocUrl}/me`, { ...baseHeaders, cookie: eocWarm });

    const koa = await startChild({ name: 'koa-bare-me', args: tsx('bench/servers/koa-bare.ts'), port: koaPort, env: { BENCH_MODE: 'me', BENCH_ME_BODY: me.text }, logDir, cwd: ROOT });
    children.push(koa);

    // 3. /me, warm: the same cookie again and again.
    const asBefore = asCalls(provider);
    log('/me warm: bare Koa, BFF, express-openid-connect');
    const warm = await interleaved([
      { name: 'bare Koa', server: koa, path: '/me', headers: warmBff },
      { name: 'BFF', server: bff, path: '/me', headers: warmBff },
      { name: 'express-openid-connect', server: eoc, path: '/me', headers: async () => ({ ...baseHeaders, cookie: eocWarm }) },
      // No session at all: what the BFF's middleware stack alone (errors, security headers, CORS, limits, router) costs.
      { name: 'BFF GET /healthz (no session)', server: bff, path: '/healthz', headers: warmBff },
    ]);

    // 4. /me, cold: a distinct, never-seen session on every request.
    // One more than the runs use, for the checks just below; the memory run reuses the first 10,000.
    const coldTotal = Math.max(SETTINGS.sessions, SETTINGS.rounds * SETTINGS.coldPerRound) + 1;
    log(`sealing ${coldTotal} distinct BFF sessions with the BFF's own session cookies`);
    const sealStarted = performance.now();
    const coldCookies = await sealMany(sessions, template, coldTotal);
    log(`sealed in ${Math.round(performance.now() - sealStarted)} ms; minting ${coldTotal} express-openid-connect sessions with its own encoder`);
    const eocColdCookies = eocCookies(eocData, eocSecret, coldTotal);
    await expectOk('BFF /me (cold cookie)', `${bffUrl}/me`, { ...baseHeaders, cookie: coldCookies.at(-1)! }, { noSetCookie: true });
    await expectOk('express-openid-connect /me (cold cookie)', `${eocUrl}/me`, { ...baseHeaders, cookie: eocColdCookies.at(-1)! });
    // The two checks above used the last cookie of each set: the runs share out the others, never
    // reusing one, in interleaved rounds (BFF, express-openid-connect, BFF, …) like the warm runs.
    const perRound = SETTINGS.coldPerRound;
    const coldRuns = new Map<string, Measured[]>([['BFF', []], ['express-openid-connect', []]]);
    for (let round = 0; round < SETTINGS.rounds; round++) {
      for (const [name, server, all] of [['BFF', bff, coldCookies], ['express-openid-connect', eoc, eocColdCookies]] as const) {
        const cookies = all.slice(round * perRound, (round + 1) * perRound);
        const result = await measure(server, { url: server.url, path: '/me', headers: baseHeaders, cookies, amount: perRound, connections: SETTINGS.connections, maxSeconds: 90 });
        if (result.distinctCookies !== perRound || result.ok !== perRound) throw new Error(`${name} cold: ${result.ok} answers to ${result.distinctCookies} distinct cookies, expected ${perRound}`);
        log(`cold round ${round + 1}/${SETTINGS.rounds} ${name}: ${Math.round(result.rps)} req/s, ${Math.round(result.cpuUsPerRequest)} µs server CPU/req, ${result.ok} distinct sessions`);
        coldRuns.get(name)!.push(result);
      }
    }
    const cold = new Map([...coldRuns].map(([name, runs]) => [name, series(name, runs)]));

    // 5. Memory: a fresh BFF process, 10,000 distinct sessions, one /me each.
    log('memory: a fresh BFF process, one /me for each of the distinct sessions');
    const mem = await startChild({ name: 'bff-memory', args: bffArgs, port: memPort, env: bffEnv, logDir, readyPath: '/healthz' });
    children.push(mem);
    const rssIdle = await mem.rss();
    const memRun = await load({ url: mem.url, path: '/me', headers: baseHeaders, cookies: coldCookies.slice(0, SETTINGS.sessions), amount: SETTINGS.sessions, connections: SETTINGS.connections, maxSeconds: 90 });
    if (memRun.ok !== SETTINGS.sessions || memRun.distinctCookies !== SETTINGS.sessions) throw new Error(`memory run: ${memRun.ok} answers for ${memRun.distinctCookies} sessions`);
    const rssAfter = await mem.rss();
    await mem.stop();

    const asDuringMe = asCalls(provider) - asBefore;

    // 6. Refresh: 100 concurrent requests with one expired access token, at /me and at the proxy.
    log(`refresh: ${SETTINGS.refreshConcurrency} concurrent requests with an expired access token`);
    const refresh = async (path: string, extra: Record<string, string>, session: typeof template) => {
      const before = provider!.counts.tokenByGrant['refresh_token'] ?? 0;
      const cookie = await sealOne(sessions, session, { atExp: Date.now() - 60_000 });
      const answers = await burst(SETTINGS.refreshConcurrency, `${bffUrl}${path}`, { ...baseHeaders, ...extra, cookie });
      const tokenCalls = (provider!.counts.tokenByGrant['refresh_token'] ?? 0) - before;
      const ok = answers.filter((a) => a.status === 200).length;
      const rewritten = answers.find((a) => a.status === 200 && a.headers['set-cookie']);
      const next = rewritten ? (await sessions.read(cookieHeader(rewritten.headers['set-cookie']!)))?.session : undefined;
      return { path, requests: answers.length, ok, tokenCalls, next };
    };
    const refreshMe = await refresh('/me', {}, template);
    if (!refreshMe.next) throw new Error('refresh at /me: no refreshed session came back');
    const refreshApi = await refresh('/api/echo/items/1', { 'latch-csrf': '1' }, refreshMe.next);

    // 7. The proxy: the BFF's /api/echo/… against a bare Koa proxy with no auth, same upstream.
    const bareProxy = await startChild({ name: 'koa-bare-proxy', args: tsx('bench/servers/koa-bare.ts'), port: proxyPort, env: { BENCH_MODE: 'proxy', BENCH_UPSTREAM: upstream.url }, logDir, cwd: ROOT });
    children.push(bareProxy);
    const proxyHeaders = async () => ({ ...(await warmBff()), 'latch-csrf': '1' });
    await expectOk('BFF proxy', `${bffUrl}/api/echo/items/42?x=1`, await proxyHeaders(), { noSetCookie: true });
    await expectOk('bare proxy', `${bareProxy.url}/api/echo/items/42?x=1`, await proxyHeaders());
    log('proxy: bare Koa proxy, BFF');
    const proxy = await interleaved([
      { name: 'no-auth proxy', server: bareProxy, path: '/api/echo/items/42?x=1', headers: proxyHeaders },
      { name: 'BFF proxy', server: bff, path: '/api/echo/items/42?x=1', headers: proxyHeaders },
    ]);

    for (const child of children.splice(0)) await child.stop();
    await provider.close();
    provider = undefined;

    // 8. Lambda cold start: fresh node processes, import the bundle, answer one /me.
    log(`Lambda cold start: ${SETTINGS.coldStartRuns} fresh processes`);
    const coldStarts = await measureColdStart({ bundle: join(bffDir, 'lambda.js'), runs: SETTINGS.coldStartRuns });
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    if (coldStarts.some((c) => c.status !== 200)) throw new Error(`Lambda cold start: statuses ${coldStarts.map((c) => c.status).join(', ')}`);

    // 9. The widget: scripts/size-check.ts's own figures.
    const sizeOut = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/size-check.ts')], { cwd: ROOT }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
    const m = /^latch\.iife\.js\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(sizeOut.stdout);
    if (!m) throw new Error(`could not read the widget sizes from scripts/size-check.ts:\n${sizeOut.stdout}`);
    const widget = { raw: Number(m[1]), gzip: Number(m[2]), brotli: Number(m[3]) };

    // -----------------------------------------------------------------------------------------------------
    const ratio = (a: number, b: number) => a / b;
    const w = (name: string) => warm.get(name)!;
    const c = (name: string) => cold.get(name)!;
    const p = (name: string) => proxy.get(name)!;
    const MB = 1_000_000;
    const coldStartMs = median(coldStarts.map((x) => x.totalMs));
    const targets: Target[] = [
      {
        id: 'warm-me', figure: 'warm /me (same cookie)', value: `${fmt(w('BFF').rps)} req/s`, baseline: `bare Koa ${fmt(w('bare Koa').rps)} req/s`,
        ratio: ratio(w('BFF').rps, w('bare Koa').rps), target: '≥ 0.75× bare Koa', pass: ratio(w('BFF').rps, w('bare Koa').rps) >= 0.75,
      },
      {
        id: 'cold-me', figure: 'cold /me (never-seen session each request)', value: `${fmt(c('BFF').rps)} req/s`, baseline: `express-openid-connect cold ${fmt(c('express-openid-connect').rps)} req/s`,
        ratio: ratio(c('BFF').rps, c('express-openid-connect').rps), target: '≥ 2× express-openid-connect', pass: ratio(c('BFF').rps, c('express-openid-connect').rps) >= 2,
      },
      {
        id: 'proxy', figure: 'API proxy GET /api/echo/…', value: `${fmt(p('BFF proxy').rps)} req/s`, baseline: `no-auth Koa proxy ${fmt(p('no-auth proxy').rps)} req/s`,
        ratio: ratio(p('BFF proxy').rps, p('no-auth proxy').rps), target: '≥ 0.7× no-auth proxy', pass: ratio(p('BFF proxy').rps, p('no-auth proxy').rps) >= 0.7,
      },
      {
        id: 'refresh', figure: `refresh: ${SETTINGS.refreshConcurrency} concurrent expired requests`, value: `${refreshMe.tokenCalls} token call(s) via /me, ${refreshApi.tokenCalls} via /api; ${refreshMe.ok + refreshApi.ok}/${refreshMe.requests + refreshApi.requests} answered 200`,
        baseline: '—', ratio: null, target: 'exactly 1 refresh per 100', pass: refreshMe.tokenCalls === 1 && refreshApi.tokenCalls === 1 && refreshMe.ok === refreshMe.requests && refreshApi.ok === refreshApi.requests,
      },
      {
        id: 'memory', figure: `RSS after ${fmt(SETTINGS.sessions)} distinct sessions`, value: `${(rssAfter / MB).toFixed(1)} MB`, baseline: `idle ${(rssIdle / MB).toFixed(1)} MB`,
        ratio: ratio(rssAfter, rssIdle), target: '≤ 200 MB', pass: rssAfter <= 200 * MB,
      },
      {
        id: 'cold-start', figure: 'Lambda cold start (import + first /me, median)', value: `${coldStartMs.toFixed(0)} ms`, baseline: '—',
        ratio: null, target: '≤ 150 ms', pass: coldStartMs <= 150,
      },
      {
        id: 'widget', figure: 'widget dist/latch.iife.js, brotli', value: `${(widget.brotli / 1024).toFixed(2)} KB`, baseline: 'oidc-client-ts 16 KB (quoted)',
        ratio: ratio(widget.brotli / 1024, 16), target: '≤ 9 KB brotli', pass: widget.brotli <= 9 * 1024,
      },
    ];

    const report: BenchReport = {
      date: new Date().toISOString(),
      quick: QUICK,
      machine: {
        node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30),
        loadAverageBefore: loadBefore.map((x) => Number(x.toFixed(2))), loadAverageAfter: loadavg().map((x) => Number(x.toFixed(2))),
      },
      commit: gitDescribe(),
      settings: { ...SETTINGS, cookieBytes: { bff: bffCookieBytes, expressOpenidConnect: eocWarm.length } },
      targets,
      throughput: {
        meWarm: [...warm.values()].map(summary),
        meCold: [...cold.values()].map(summary),
        proxy: [...proxy.values()].map(summary),
        extraRatios: {
          'warm /me: BFF ÷ express-openid-connect': ratio(w('BFF').rps, w('express-openid-connect').rps),
          'warm /me: express-openid-connect ÷ bare Koa': ratio(w('express-openid-connect').rps, w('bare Koa').rps),
          'cold /me: BFF ÷ bare Koa (warm)': ratio(c('BFF').rps, w('bare Koa').rps),
          'BFF /healthz (the middleware floor, no session) ÷ bare Koa': ratio(w('BFF GET /healthz (no session)').rps, w('bare Koa').rps),
          'cold /me ÷ warm /me, BFF': ratio(c('BFF').rps, w('BFF').rps),
        },
      },
      refresh: { me: { ...refreshMe, next: undefined }, api: { ...refreshApi, next: undefined } },
      authorizationServerCallsDuringMeRuns: asDuringMe,
      memory: { sessions: SETTINGS.sessions, rssIdleBytes: rssIdle, rssAfterBytes: rssAfter, run: memRun },
      coldStart: {
        runs: coldStarts,
        medianTotalMs: coldStartMs,
        minTotalMs: Math.min(...coldStarts.map((x) => x.totalMs)),
        medianImportMs: median(coldStarts.map((x) => x.importMs)),
        medianFirstResponseMs: median(coldStarts.map((x) => x.firstResponseMs)),
        medianProcessMs: median(coldStarts.map((x) => x.processMs)),
      },
      widget: { ...widget, budgetBrotli: 9 * 1024, referenceSdksBrotliKBQuoted: Object.fromEntries(REFERENCE_SDKS_BROTLI_KB) },
      seconds: Math.round((performance.now() - started) / 1000),
    };

    const text = renderText(report);
    process.stdout.write(`${text}\n`);
    const md = renderMarkdown(report);
    const outDir = QUICK ? mkdtempSync(join(tmpdir(), 'latch-bench-quick-')) : join(ROOT, 'bench/results');
    mkdirSync(outDir, { recursive: true });
    // The tables in docs/bench.md and README.md are the run on this machine's Node (CI's); a --node24
    // run is kept beside it, for comparing the two.
    const latest = NODE24 ? 'latest-node24' : 'latest';
    writeFileSync(join(outDir, `${latest}.json`), `${JSON.stringify({ ...report, memory: { ...report.memory } }, null, 2)}\n`);
    writeFileSync(join(outDir, `${latest}.md`), md);
    writeFileSync(join(outDir, `${latest}.raw.json`), `${JSON.stringify({ warm: [...warm.values()], cold: [...cold.values()], proxy: [...proxy.values()], memRun }, null, 2)}\n`);
    if (!QUICK && !NODE24) {
      replaceBetweenMarkers(join(ROOT, 'docs/bench.md'), renderMarkdown(report, { footer: false }));
      replaceBetweenMarkers(join(ROOT, 'README.md'), renderTargetsMarkdown(report));
    }
    log(`results: ${join(outDir, `${latest}.json`)} and ${latest}.md (${report.seconds} s in all)`);
    if (asDuringMe !== 0) log(`WARNING: ${asDuringMe} calls reached the authorization server during the /me runs`);
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    log(`child logs: ${logDir}`);
    process.exitCode = 1;
  } finally {
    for (const child of children) await child.stop().catch(() => undefined);
    await provider?.close().catch(() => undefined);
    if (process.exitCode !== 1) rmSync(workDir, { recursive: true, force: true });
  }
}

function summary(s: Series) {
  return { name: s.name, rps: Math.round(s.rps), cpuUsPerRequest: Math.round(s.cpuUs), p50Ms: s.p50, p99Ms: s.p99, rounds: s.runs.map((r) => Math.round(r.rps)) };
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function gitDescribe(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'bff'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() !== '';
  return head ? `${head}${dirty ? ' (bff/ has uncommitted changes)' : ''}` : 'unknown';
}

/** Replaces what lies between the `bench:latest` markers in `file` (docs/bench.md, README.md) with this run's tables. */
function replaceBetweenMarkers(file: string, md: string): void {
  if (!existsSync(file)) return;
  const doc = readFileSync(file, 'utf8');
  const start = '<!-- bench:latest:start -->';
  const end = '<!-- bench:latest:end -->';
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) return;
  writeFileSync(file, `${doc.slice(0, i + start.length)}\n${md.trim()}\n${doc.slice(j)}`);
}

await main();

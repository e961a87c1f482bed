/**
 * `npm run bench`: Latch's performance figures, side by side with their baselines, measured in one run
 * on this machine on Node 20 and Node 24, and checked against the targets of issue 20. Everything runs
 * on 127.0.0.1 (free ports), every load loop is bounded in requests and in time.
 *
 *   npm run bench                     the full run (about 8–9 minutes); writes bench/results/latest.{json,md}
 *                                     and the tables in docs/bench.md and README.md
 *   npm run bench -- --quick          shorter runs, fewer rounds (for trying changes); results go to a temp folder
 *   npm run bench -- --only=warm,cold one or more sections (warm, cold, proxy, login, callback, refresh,
 *                                     memory, coldstart, widget); results go to a temp folder
 *   npm run bench -- --one-node       this machine's Node only (no Node 24 beside it)
 *   npm run bench -- --cpu-prof       every server under test writes V8 CPU profiles (node --cpu-prof) into a
 *                                     temp folder of its own; summarise one with bench/lib/cpuprofile.ts
 *   npm run bench -- --node24         the whole bench on Node 24 (bench/lib/node.ts); writes
 *                                     bench/results/latest-node24.{json,md} only
 *
 * What runs where (see docs/bench.md): this process is the load generator (autocannon, 32 connections)
 * and hosts the dev OpenID provider; every server under test is a child process of its own — the BFF
 * from its production bundle (built here from the current source), bare Koa, express-openid-connect,
 * Koa with iron-session, Koa with koa-session, the BFF routed through @koa/router, the upstream API,
 * the no-auth proxy — each main one on both Nodes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { DEMO_API_RESOURCE, DEMO_API_SCOPE } from '../dev/demo-api.ts';
import { startDevProvider, type DevProvider } from '../dev/provider.ts';
import { newDpopKey } from '../bff/oauth/dpop.ts';
import { DEFAULT_UNSEAL_CACHE_BYTES } from '../bff/session/sealer.ts';
import type { Session } from '../bff/session/session.ts';
import { buildBff } from '../scripts/build-bff.ts';
import { HttpClient, signIn } from '../test/helpers/http.ts';
import { freePort, startRedis, type RedisHandle } from '../test/helpers/net.ts';
import { bundleForNode } from './lib/build.ts';
import { vendorBundles, widgetBundles, type VendorBundle } from './lib/bundles.ts';
import { startChild, type ChildServer } from './lib/children.ts';
import { coldStartsOn } from './lib/cold-start.ts';
import { measureSignIns, type SignInFigures } from './lib/flows.ts';
import { burst, expectStatus } from './lib/http.ts';
import { hostileCookies, measureMemory, type MemoryFigures } from './lib/memory.ts';
import { NODE24, node24Binary, runOnRequestedNode } from './lib/node.ts';
import { renderMarkdown, renderTargetsMarkdown, renderText, type BenchReport, type ColdStartFigures, type Figure, type Target, type ThroughputRow } from './lib/report.ts';
import { coldRounds, interleaved, type ColdContender, type Contender, type Series } from './lib/rounds.ts';
import { gitDescribe, replaceBetweenMarkers } from './lib/results.ts';
import { bffSessions, cookieHeader, distinctSessions, eocCookies, eocSessionData, ironSessionCookies, koaSessionCookies, sealMany, sealOne } from './lib/sessions.ts';
import { percentile } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const ARGS = process.argv.slice(2);
const QUICK = ARGS.includes('--quick');
const SECTIONS = ['warm', 'cold', 'proxy', 'login', 'callback', 'refresh', 'memory', 'coldstart', 'widget'] as const;
type Section = (typeof SECTIONS)[number];
const ONLY = (() => {
  const arg = ARGS.find((a) => a.startsWith('--only='));
  if (!arg) return undefined;
  const list = arg.slice('--only='.length).split(',').filter(Boolean);
  const unknown = list.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
  return new Set(list as Section[]);
})();
const want = (...sections: Section[]) => sections.some((s) => !ONLY || ONLY.has(s));
/** Node 24 beside this machine's Node, unless told otherwise (or already on 24: --node24). */
const BOTH_NODES = !ARGS.includes('--one-node') && !NODE24;
/** Full runs write the tables in bench/results/, docs/bench.md and README.md. */
const FULL = !QUICK && !ONLY && !ARGS.includes('--cpu-prof');
/** `--cpu-prof`: where the servers' CPU profiles go. */
const PROFILES = ARGS.includes('--cpu-prof') ? mkdtempSync(join(tmpdir(), 'latch-bench-profiles-')) : undefined;

const SETTINGS = {
  connections: 32,
  /** Seconds per measured run. */
  duration: QUICK ? 3 : 5,
  /** Seconds of unrecorded load before a server's first measured run (JIT, caches of the runtime). */
  warmup: QUICK ? 1 : 2,
  /** Measured runs per server, interleaved with the others' (A B C A B C …). */
  rounds: QUICK ? 1 : 3,
  /** Distinct, never-seen sessions per cold round, for the BFF and express-openid-connect. */
  coldPerRound: QUICK ? 2000 : 6000,
  /** The same for Koa with iron-session and with koa-session (they cache nothing; iron-session's own sealing is slow to mint). */
  libraryColdPerRound: QUICK ? 1000 : 3000,
  /** Distinct sessions for the memory figure. */
  memorySessions: QUICK ? 20_000 : 100_000,
  /** Distinct sessions of the largest size (three cookie chunks), then cookies that never open, after it. */
  largeSessions: QUICK ? 1000 : 5000,
  hostileCookies: QUICK ? 1500 : 6000,
  refreshConcurrency: 1000,
  refreshInstances: 3,
  /** Sign-ins one at a time for /callback's own cost, after a few unmeasured ones. */
  signIns: QUICK ? 10 : 40,
  signInWarmup: QUICK ? 2 : 5,
  coldStartRuns: QUICK ? 3 : 9,
};

/** Issue 20's targets. */
const TARGETS = {
  warmMeCpu: 0.9,
  coldMeCpu: 4,
  proxyCpu: 0.9,
  redisMe: 0.5,
  callbackCpuUs: 1000,
  rssBytes: 250_000_000,
  /** The seal cache: the heap it keeps after a full collection, at most this many times its bound (bff/session/sealer.ts counts within a factor of 2). */
  sealCacheHeapFactor: 2,
  coldStartMs: 100,
  widgetBrotli: 8.5 * 1024,
};

const SITE = 'http://www.latch.test:8080';
const SCOPES = `openid profile email offline_access ${DEMO_API_SCOPE}`;
const PROXY_PATH = '/api/echo/items/42?x=1';

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

interface NodeRun {
  /** "Node 20", "Node 24". */
  label: string;
  bin: string;
  version: string;
}

/** A throughput row in the making: the contender measured, and where its figure goes in the report. */
interface Entry {
  group: string;
  name: string;
  node: string;
  baseline?: string;
  contender: Contender;
}

function rowOf(entry: Pick<Entry, 'group' | 'name' | 'node' | 'baseline'>, s: Series): ThroughputRow {
  return {
    group: entry.group, name: entry.name, node: entry.node, rps: Math.round(s.rps), cpuUsPerRequest: Math.round(s.cpuUs), extraCpuUs: Math.round(s.extraCpuUs),
    ...(s.extraName ? { extraName: s.extraName } : {}), p50Ms: s.p50, p99Ms: s.p99, rounds: s.runs.map((r) => Math.round(r.rps)),
    ...(entry.baseline ? { baseline: entry.baseline } : {}),
  };
}

/** Memoised start of a child server: started the first time a section asks for it. */
function lazily<T>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => (started ??= start());
}

async function main(): Promise<void> {
  await runOnRequestedNode();
  const started = performance.now();
  const workDir = mkdtempSync(join(tmpdir(), 'latch-bench-'));
  const logDir = join(workDir, 'logs');
  mkdirSync(logDir);
  const children: ChildServer[] = [];
  let provider: DevProvider | undefined;
  let redis: RedisHandle | undefined;
  let redisClient: Redis | undefined;
  const loadBefore = loadavg();
  try {
    const thisNode: NodeRun = { label: `Node ${process.versions.node.split('.')[0]}`, bin: process.execPath, version: process.version };
    const nodes: NodeRun[] = [thisNode];
    if (BOTH_NODES && want('warm', 'cold', 'proxy', 'login', 'memory', 'coldstart')) {
      const bin = await node24Binary();
      nodes.push({ label: 'Node 24', bin, version: execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim() });
    }
    log(`nodes: ${nodes.map((n) => `${n.label} (${n.version})`).join(', ')}; sections: ${ONLY ? [...ONLY].join(', ') : 'all'}`);

    // 0. Builds: the widget if dist/ lacks it (or is older than widget/); the BFF bundles always, from
    //    the current source, into a temp folder (dist/ is left alone: other work may be using it); the
    //    BFF routed through @koa/router and the probe, the same way.
    if (want('widget')) ensureWidgetBuilt();
    const bffDir = join(workDir, 'bff');
    const serverJs = join(bffDir, 'server.js');
    const probeFile = join(workDir, 'probe.mjs');
    const koaRouterJs = join(workDir, 'bff-koa-router.js');
    if (want('warm', 'cold', 'proxy', 'login', 'callback', 'refresh', 'memory', 'coldstart')) {
      log('building the BFF bundles, the BFF routed through @koa/router and the probe into a temp folder');
      await Promise.all([buildBff({ outdir: bffDir }), bundleForNode('bench/servers/probe.ts', probeFile), bundleForNode('bench/servers/bff-koa-router.ts', koaRouterJs)]);
    }
    const probeImport = ['--import', pathToFileURL(probeFile).href];

    // 1. Ports, the dev provider (in this process; idle while load runs), and the servers.
    const port = () => freePort();
    const bffPorts = new Map<string, number>();
    const redisBffPorts = new Map<string, number>();
    for (const node of nodes) {
      bffPorts.set(node.label, await port());
      redisBffPorts.set(node.label, await port());
    }
    const [koaRouterPort, callbackPort, callbackProbePort] = [await port(), await port(), await port()];
    const refreshPorts = await Promise.all(Array.from({ length: SETTINGS.refreshInstances }, () => port()));
    const eocPorts = new Map<string, number>();
    for (const node of nodes) eocPorts.set(node.label, await port());
    const url = (p: number) => `http://127.0.0.1:${p}`;
    const bffUrl = url(bffPorts.get(thisNode.label)!);
    const eocUrl = url(eocPorts.get(thisNode.label)!);
    const allBffPorts = [...bffPorts.values(), ...redisBffPorts.values(), koaRouterPort, callbackPort, ...refreshPorts];

    const bffClient = { id: `latch-bench-${randomBytes(3).toString('hex')}`, secret: randomBytes(24).toString('base64url') };
    const eocClient = { id: `eoc-bench-${randomBytes(3).toString('hex')}`, secret: randomBytes(24).toString('base64url') };
    provider = await startDevProvider({
      // JWT access tokens (RFC 9068), as most hosted providers issue: a realistic token set in every session.
      jwtAccessTokens: { resource: DEMO_API_RESOURCE, scopes: [DEMO_API_SCOPE] },
      clients: [
        { client_id: bffClient.id, client_secret: bffClient.secret, redirect_uris: allBffPorts.map((p) => `${url(p)}/callback`), grant_types: ['authorization_code', 'refresh_token'] },
        { client_id: eocClient.id, client_secret: eocClient.secret, redirect_uris: [...eocPorts.values()].map((p) => `${url(p)}/callback`), grant_types: ['authorization_code', 'refresh_token'] },
      ],
    });
    const dev = provider;
    const providerPort = Number(new URL(dev.issuer).port);
    const user = dev.users[0]!;
    const tsx = (file: string) => ['--import', 'tsx', join(ROOT, file)];
    const start = async (opts: Parameters<typeof startChild>[0]) => {
      // A folder per server: node writes a profile per thread (tsx's loader has a thread of its own), the largest is the main thread's.
      const profile = PROFILES ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILES, opts.name)}`] : [];
      const child = await startChild({ ...opts, args: [...profile, ...opts.args] });
      children.push(child);
      return child;
    };

    const upstream = await start({ name: 'upstream', args: tsx('bench/servers/upstream.ts'), port: await port(), env: {}, logDir, cwd: ROOT });

    const cookieSecret = randomBytes(32).toString('base64url');
    const bffEnv = (p: number, extra: Record<string, string> = {}): Record<string, string> => ({
      LATCH_ISSUER: dev.issuer,
      LATCH_CLIENT_ID: bffClient.id,
      LATCH_CLIENT_SECRET: bffClient.secret,
      LATCH_BASE_URL: url(p),
      LATCH_COOKIE_SECRET: cookieSecret,
      LATCH_ALLOWED_ORIGINS: SITE,
      LATCH_ALLOW_INSECURE_HTTP: 'true',
      LATCH_SCOPES: SCOPES,
      LATCH_API_ROUTES: `echo=${upstream.url}`,
      LATCH_LOG_LEVEL: 'warn',
      // The sign-in rate limit stays on (its check runs on every request) but never trips under load.
      LATCH_RATE_LIMIT: '1000000',
      // The idle window is renewed (the cookie resealed) once 10% of it has passed since the cookie was
      // sealed: a browser takes the new cookie, the load generator would not, and from then on every
      // request would reseal. With 8 hours (the absolute lifetime), no run lasts long enough for that.
      LATCH_SESSION_IDLE_TIMEOUT: String(8 * 3600),
      ...extra,
    });
    const bffs = new Map<string, () => Promise<ChildServer>>(
      nodes.map((node) => [node.label, lazily(() => { const p = bffPorts.get(node.label)!; return start({ name: `bff-node${node.label.slice(5)}`, node: node.bin, args: [serverJs], port: p, env: bffEnv(p), logDir, readyPath: '/healthz' }); })]),
    );
    const bff = () => bffs.get(thisNode.label)!();
    const eocSecret = randomBytes(32).toString('base64url');
    const eocs = new Map<string, () => Promise<ChildServer>>(
      nodes.map((node) => [node.label, lazily(() => {
        const p = eocPorts.get(node.label)!;
        return start({
          name: `express-openid-connect-node${node.label.slice(5)}`, node: node.bin, args: tsx('bench/servers/eoc.ts'), port: p, logDir, cwd: ROOT,
          env: { EOC_ISSUER: dev.issuer, EOC_CLIENT_ID: eocClient.id, EOC_CLIENT_SECRET: eocClient.secret, EOC_SECRET: eocSecret, EOC_SCOPE: SCOPES },
        });
      })]),
    );
    const ironPassword = randomBytes(32).toString('base64url');
    const ironSession = lazily(async () => start({ name: 'koa-iron-session', args: tsx('bench/servers/iron-session.ts'), port: await port(), env: { IRON_PASSWORD: ironPassword }, logDir, cwd: ROOT }));
    const koaSessionSecret = randomBytes(32).toString('base64url');
    const koaSession = lazily(async () => start({ name: 'koa-session', args: tsx('bench/servers/koa-session.ts'), port: await port(), env: { KOA_SESSION_SECRET: koaSessionSecret }, logDir, cwd: ROOT }));
    const koaRouterBff = lazily(() => start({ name: 'bff-koa-router', args: [koaRouterJs], port: koaRouterPort, env: bffEnv(koaRouterPort), logDir, readyPath: '/healthz' }));
    const redisServer = lazily(async () => {
      redis = await startRedis();
      redisClient = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
      return redis;
    });
    /** redis-server's own CPU time so far, ms (INFO cpu: used_cpu_user + used_cpu_sys, seconds). */
    const redisCpuMs = async () => {
      const info = await redisClient!.info('cpu');
      const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
      return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
    };
    const redisBffs = new Map<string, () => Promise<ChildServer>>(
      nodes.map((node) => [node.label, lazily(async () => {
        const p = redisBffPorts.get(node.label)!;
        const { url: redisUrl } = await redisServer();
        return start({ name: `bff-redis-node${node.label.slice(5)}`, node: node.bin, args: [serverJs], port: p, env: bffEnv(p, { LATCH_SESSION_STORE: 'redis', LATCH_REDIS_URL: redisUrl, LATCH_REDIS_PREFIX: 'bench-me:' }), logDir, readyPath: '/healthz' });
      })]),
    );

    // 2. One real sign-in at the BFF and one at express-openid-connect, through the dev provider's login
    //    form; every other cookie of the runs is made from these (bench/lib/sessions.ts).
    const sessions = bffSessions(bffEnv(bffPorts.get(thisNode.label)!));
    const baseHeaders = { origin: SITE, accept: 'application/json' };
    let template: Session | undefined;
    const cookieBytes: Record<string, number> = {};
    let meBody = '';
    if (want('warm', 'cold', 'proxy', 'refresh', 'memory')) {
      await bff();
      log('signing in once at the BFF');
      const browser = new HttpClient();
      await signIn(browser, `${bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`, user);
      const signedIn = await sessions.read(await browser.jar.getCookieString(bffUrl));
      if (!signedIn) throw new Error('the BFF sign-in left no readable session cookie');
      template = signedIn.session;
    }
    const warmBff = async () => ({ ...baseHeaders, cookie: await sealOne(sessions, template!) });
    if (template) {
      cookieBytes['BFF'] = (await warmBff()).cookie.length;
      meBody = (await expectStatus('BFF /me', `${bffUrl}/me`, await warmBff(), 200, { noSetCookie: true })).text;
      for (const node of nodes.slice(1)) if (want('warm', 'cold', 'proxy')) await expectStatus(`BFF /me (${node.label})`, `${(await bffs.get(node.label)!()).url}/me`, await warmBff(), 200, { noSetCookie: true });
    }
    let eocData: Record<string, unknown> | undefined;
    let eocWarm = '';
    if (want('warm', 'cold')) {
      await eocs.get(thisNode.label)!();
      log('signing in once at express-openid-connect');
      const browser = new HttpClient();
      await signIn(browser, `${eocUrl}/login`, user);
      const pairs = (await browser.jar.getCookies(eocUrl)).filter((c) => /^appSession(\.\d+)?$/.test(c.key));
      if (pairs.length !== 1) throw new Error(`express-openid-connect's sign-in left ${pairs.length} appSession cookies (chunked sessions are not minted by this bench)`);
      eocWarm = `appSession=${pairs[0]!.value}`;
      eocData = await eocSessionData(pairs[0]!.value, eocSecret);
      cookieBytes['express-openid-connect'] = eocWarm.length;
      await expectStatus('express-openid-connect /me', `${eocUrl}/me`, { ...baseHeaders, cookie: eocWarm });
    }
    const ironWarm = template && want('warm', 'cold') ? (await ironSessionCookies([template], ironPassword, 8 * 3600))[0]! : '';
    const koaSessionWarm = template && want('warm', 'cold') ? koaSessionCookies([template], koaSessionSecret)[0]! : '';
    if (ironWarm) {
      cookieBytes['iron-session'] = ironWarm.length;
      cookieBytes['koa-session (two cookies)'] = koaSessionWarm.length;
      await expectStatus('Koa + iron-session /me', `${(await ironSession()).url}/me`, { ...baseHeaders, cookie: ironWarm }, 200, { noSetCookie: true });
      await expectStatus('Koa + koa-session /me', `${(await koaSession()).url}/me`, { ...baseHeaders, cookie: koaSessionWarm }, 200, { noSetCookie: true });
    }
    let redisCookie = '';
    if (want('warm')) {
      await expectStatus('BFF via @koa/router /me', `${(await koaRouterBff()).url}/me`, await warmBff(), 200, { noSetCookie: true });
      // The Redis store keeps the session; the cookie holds a sealed reference: a real sign-in makes both.
      const redisBff = await redisBffs.get(thisNode.label)!();
      log('signing in once at the BFF with LATCH_SESSION_STORE=redis');
      const browser = new HttpClient();
      await signIn(browser, `${redisBff.url}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`, user);
      redisCookie = await browser.jar.getCookieString(redisBff.url);
      cookieBytes['BFF with the Redis store'] = redisCookie.length;
      for (const node of nodes) await expectStatus(`BFF (Redis store, ${node.label}) /me`, `${(await redisBffs.get(node.label)!()).url}/me`, { ...baseHeaders, cookie: redisCookie }, 200, { noSetCookie: true });
    }

    const throughput: ThroughputRow[] = [];
    const record = (entries: Entry[], results: Map<string, Series>) => {
      for (const e of entries) throughput.push(rowOf(e, results.get(e.contender.name)!));
    };
    const asBefore = asCalls(dev);

    // 3. /me, warm: the same cookie again and again.
    if (want('warm')) {
      const entries: Entry[] = [];
      const add = (group: string, name: string, node: NodeRun, contender: Omit<Contender, 'name'>, baseline?: string) =>
        entries.push({ group, name, node: node.label, ...(baseline ? { baseline } : {}), contender: { ...contender, name: `${name} (${node.label})` } });
      const W = '/me warm';
      for (const node of nodes) {
        const koa = await start({ name: `koa-bare-me-node${node.label.slice(5)}`, node: node.bin, args: tsx('bench/servers/koa-bare.ts'), port: await port(), env: { BENCH_MODE: 'me', BENCH_ME_BODY: meBody }, logDir, cwd: ROOT });
        add(W, 'bare Koa', node, { server: koa, path: '/me', headers: warmBff });
        add(W, 'BFF', node, { server: await bffs.get(node.label)!(), path: '/me', headers: warmBff }, 'bare Koa');
        add(W, 'BFF with the Redis store', node, {
          server: await redisBffs.get(node.label)!(), path: '/me', headers: async () => ({ ...baseHeaders, cookie: redisCookie }), extra: { name: 'redis-server', ms: redisCpuMs },
        }, 'bare Koa');
        if (node !== thisNode) continue;
        // No session at all: what the BFF's middleware stack alone (errors, security headers, CORS, limits, router) costs.
        add(W, 'BFF GET /healthz (no session)', node, { server: await bff(), path: '/healthz', headers: warmBff }, 'bare Koa');
        add(W, 'BFF routed through @koa/router', node, { server: await koaRouterBff(), path: '/me', headers: warmBff }, 'bare Koa');
        add(W, 'Koa + iron-session', node, { server: await ironSession(), path: '/me', headers: async () => ({ ...baseHeaders, cookie: ironWarm }) }, 'bare Koa');
        add(W, 'Koa + koa-session', node, { server: await koaSession(), path: '/me', headers: async () => ({ ...baseHeaders, cookie: koaSessionWarm }) }, 'bare Koa');
        add(W, 'express-openid-connect', node, { server: await eocs.get(node.label)!(), path: '/me', headers: async () => ({ ...baseHeaders, cookie: eocWarm }) }, 'bare Koa');
      }
      log(`/me warm: ${entries.length} servers, ${SETTINGS.rounds} interleaved round(s)`);
      record(entries, await interleaved(entries.map((e) => e.contender), SETTINGS, log));
    }

    // 4. /me, cold: a distinct, never-seen session on every request (each server process sees each cookie
    //    once: the same cookies serve both Nodes' servers, which are separate processes).
    let bffCookies: string[] = [];
    const needBffCookies = Math.max(want('cold') ? SETTINGS.rounds * SETTINGS.coldPerRound : 0, want('memory') ? SETTINGS.memorySessions : 0);
    if (needBffCookies > 0) {
      log(`sealing ${needBffCookies.toLocaleString('en-US')} distinct BFF sessions with the BFF's own session cookies`);
      const t = performance.now();
      bffCookies = await sealMany(sessions, template!, needBffCookies);
      log(`sealed in ${Math.round(performance.now() - t)} ms`);
    }
    if (want('cold')) {
      const coldTotal = SETTINGS.rounds * SETTINGS.coldPerRound;
      const libTotal = SETTINGS.rounds * SETTINGS.libraryColdPerRound;
      log(`minting ${coldTotal} express-openid-connect sessions (its own encoder), ${libTotal} iron-session ones (its sealData) and ${libTotal} koa-session ones`);
      const eocCold = eocCookies(eocData!, eocSecret, coldTotal);
      const libSessions = distinctSessions(template!, libTotal);
      const ironCold = await ironSessionCookies(libSessions, ironPassword, 8 * 3600);
      const koaSessionCold = koaSessionCookies(libSessions, koaSessionSecret);
      // Each check uses a cookie the runs do not (the runs take the first ones of each set, in order).
      await expectStatus('express-openid-connect /me (cold cookie)', `${eocUrl}/me`, { ...baseHeaders, cookie: eocCookies(eocData!, eocSecret, 1)[0]! });
      const main: ColdContender[] = [];
      const entries: Array<Omit<Entry, 'contender'> & { contender: ColdContender }> = [];
      for (const node of nodes) {
        entries.push({ group: '/me cold', name: 'BFF', node: node.label, baseline: 'express-openid-connect', contender: { name: `BFF (${node.label})`, server: await bffs.get(node.label)!(), cookies: bffCookies } });
        entries.push({ group: '/me cold', name: 'express-openid-connect', node: node.label, contender: { name: `express-openid-connect (${node.label})`, server: await eocs.get(node.label)!(), cookies: eocCold } });
      }
      main.push(...entries.map((e) => e.contender));
      log(`/me cold: ${main.length} servers, ${SETTINGS.rounds} round(s) of ${SETTINGS.coldPerRound} requests`);
      const results = await coldRounds(main, { perRound: SETTINGS.coldPerRound, rounds: SETTINGS.rounds, connections: SETTINGS.connections, path: '/me', headers: baseHeaders }, log);
      const libraries = [
        { group: '/me cold', name: 'Koa + iron-session', node: thisNode.label, baseline: 'express-openid-connect', contender: { name: 'Koa + iron-session (cold)', server: await ironSession(), cookies: ironCold } },
        { group: '/me cold', name: 'Koa + koa-session', node: thisNode.label, baseline: 'express-openid-connect', contender: { name: 'Koa + koa-session (cold)', server: await koaSession(), cookies: koaSessionCold } },
      ];
      log(`/me cold, the libraries first specified: ${SETTINGS.rounds} round(s) of ${SETTINGS.libraryColdPerRound} requests`);
      const libResults = await coldRounds(libraries.map((l) => l.contender), { perRound: SETTINGS.libraryColdPerRound, rounds: SETTINGS.rounds, connections: SETTINGS.connections, path: '/me', headers: baseHeaders }, log);
      for (const e of entries) throughput.push(rowOf(e, results.get(e.contender.name)!));
      for (const e of libraries) throughput.push(rowOf(e, libResults.get(e.contender.name)!));
    }

    // 5. Memory: a fresh BFF process per Node, many distinct sessions, then the largest and the hostile.
    const memory: MemoryFigures[] = [];
    if (want('memory')) {
      const large = await largestSession(template!, sessions);
      const largeCookies = await sealMany(sessions, large.session, SETTINGS.largeSessions);
      log(`memory: the largest sessions: ${large.cookie.length} bytes of cookies (${large.cookie.split('; ').length} chunks)`);
      const hostile = hostileCookies(bffCookies[0]!, SETTINGS.hostileCookies);
      for (const node of nodes) {
        const p = await port();
        memory.push(await measureMemory({
          node, args: ['--expose-gc', ...probeImport, serverJs], env: bffEnv(p), port: p, probePort: await port(), logDir, headers: baseHeaders,
          warmCookie: bffCookies[0]!, cookies: bffCookies.slice(0, SETTINGS.memorySessions), largeCookies, hostileCookies: hostile, connections: SETTINGS.connections, log,
        }));
      }
    }
    const asDuringMe = asCalls(dev) - asBefore;

    // 6. The proxy: the BFF's /api/echo/… against a bare Koa proxy with no auth, same upstream.
    if (want('proxy')) {
      const proxyHeaders = async () => ({ ...(await warmBff()), 'latch-csrf': '1' });
      const entries: Entry[] = [];
      for (const node of nodes) {
        const bareProxy = await start({ name: `koa-bare-proxy-node${node.label.slice(5)}`, node: node.bin, args: tsx('bench/servers/koa-bare.ts'), port: await port(), env: { BENCH_MODE: 'proxy', BENCH_UPSTREAM: upstream.url }, logDir, cwd: ROOT });
        const server = await bffs.get(node.label)!();
        await expectStatus(`BFF proxy (${node.label})`, `${server.url}${PROXY_PATH}`, await proxyHeaders(), 200, { noSetCookie: true });
        await expectStatus(`bare proxy (${node.label})`, `${bareProxy.url}${PROXY_PATH}`, await proxyHeaders());
        entries.push({ group: 'proxy', name: 'no-auth proxy', node: node.label, contender: { name: `no-auth proxy (${node.label})`, server: bareProxy, path: PROXY_PATH, headers: proxyHeaders } });
        entries.push({ group: 'proxy', name: 'BFF proxy', node: node.label, baseline: 'no-auth proxy', contender: { name: `BFF proxy (${node.label})`, server, path: PROXY_PATH, headers: proxyHeaders } });
        entries.push(await dpopProxyEntry(node.label, server, proxyHeaders, sessions, template!, cookieBytes));
      }
      log('proxy: bare Koa proxy, BFF');
      record(entries, await interleaved(entries.map((e) => e.contender), SETTINGS, log));
    }

    // 7. /login under load: its own cost (a transaction sealed into a cookie, a redirect; no network).
    if (want('login')) {
      const loginPath = `/login?returnTo=${encodeURIComponent(`${SITE}/`)}`;
      const entries: Entry[] = [];
      for (const node of nodes) {
        const server = await bffs.get(node.label)!();
        await expectStatus(`BFF /login (${node.label})`, `${server.url}${loginPath}`, { accept: 'text/html' }, 302);
        entries.push({ group: '/login', name: 'BFF GET /login', node: node.label, contender: { name: `BFF /login (${node.label})`, server, path: loginPath, headers: async () => ({ accept: 'text/html' }), expectStatus: 302 } });
      }
      log('/login');
      record(entries, await interleaved(entries.map((e) => e.contender), SETTINGS, log));
    }

    // 8. /callback's own cost: sign-ins one at a time at a BFF with the probe.
    let signIns: SignInFigures | undefined;
    if (want('callback')) {
      const server = await start({
        name: 'bff-callback', args: [...probeImport, serverJs], port: callbackPort, env: { ...bffEnv(callbackPort), BENCH_PROBE_PORT: String(callbackProbePort), BENCH_PROBE_CPU: '1' }, logDir, readyPath: '/healthz',
      });
      log(`/callback: ${SETTINGS.signIns} sign-ins one at a time (after ${SETTINGS.signInWarmup} unmeasured)`);
      signIns = await measureSignIns({ bff: server, probeUrl: url(callbackProbePort), providerPort, user, returnTo: `${SITE}/`, warmup: SETTINGS.signInWarmup, signIns: SETTINGS.signIns, log });
      await server.stop();
    }

    // 9. Refresh: 1,000 concurrent requests with one expired access token, spread over 3 instances that
    //    share a Redis store (locks and results), at /me and then at the proxy.
    let refresh: { me: RefreshResult; api: RefreshResult } | undefined;
    if (want('refresh')) {
      const { url: redisUrl } = await redisServer();
      const instances = await Promise.all(refreshPorts.map((p, i) =>
        start({ name: `bff-refresh-${i + 1}`, args: [serverJs], port: p, env: bffEnv(p, { LATCH_REDIS_URL: redisUrl, LATCH_REDIS_PREFIX: 'bench-refresh:' }), logDir, readyPath: '/healthz' })));
      log(`refresh: ${SETTINGS.refreshConcurrency} concurrent requests with an expired access token over ${instances.length} instances sharing Redis`);
      const run = async (path: string, extra: Record<string, string>, session: Session): Promise<RefreshResult> => {
        const before = dev.counts.tokenByGrant['refresh_token'] ?? 0;
        const cookie = await sealOne(sessions, session, { atExp: Date.now() - 60_000 });
        const answers = await burst(SETTINGS.refreshConcurrency, instances.map((s) => `${s.url}${path}`), { ...baseHeaders, ...extra, cookie });
        const tokenCalls = (dev.counts.tokenByGrant['refresh_token'] ?? 0) - before;
        const ok = answers.filter((a) => a.status === 200).length;
        // Each status with its count, and the error code of the first answer of each that was not a 200.
        const statuses: Record<string, number> = {};
        const errors: Record<string, string> = {};
        for (const a of answers) {
          statuses[a.status] = (statuses[a.status] ?? 0) + 1;
          if (a.status !== 200) errors[a.status] ??= a.text.slice(0, 200);
        }
        const rewritten = answers.find((a) => a.status === 200 && a.headers['set-cookie']);
        const next = rewritten ? (await sessions.read(cookieHeader(rewritten.headers['set-cookie']!)))?.session : undefined;
        return { path, requests: answers.length, instances: instances.length, ok, statuses, errors, tokenCalls, ...(next ? { next } : {}) };
      };
      const me = await run('/me', {}, template!);
      if (!me.next) throw new Error('refresh at /me: no refreshed session came back');
      const api = await run('/api/echo/items/1', { 'latch-csrf': '1' }, me.next);
      refresh = { me, api };
    }

    for (const child of children.splice(0)) await child.stop();
    await dev.close();
    provider = undefined;

    // 10. Lambda cold start: fresh node processes, import the bundle, answer one /me; on each Node.
    const coldStart: ColdStartFigures[] = [];
    if (want('coldstart')) {
      for (const node of nodes) {
        log(`Lambda cold start (${node.label}): ${SETTINGS.coldStartRuns} fresh processes`);
        const runs = await coldStartsOn(node.bin, join(bffDir, 'lambda.js'), SETTINGS.coldStartRuns);
        if (runs.some((c) => c.status !== 200)) throw new Error(`Lambda cold start: statuses ${runs.map((c) => c.status).join(', ')}`);
        const med = (pick: (c: (typeof runs)[number]) => number) => percentile(runs.map(pick), 50);
        coldStart.push({
          node: node.label, runs, medianTotalMs: med((c) => c.totalMs), minTotalMs: Math.min(...runs.map((c) => c.totalMs)),
          medianImportMs: med((c) => c.importMs), medianFirstResponseMs: med((c) => c.firstResponseMs), medianProcessMs: med((c) => c.processMs),
        });
      }
    }

    // 11. Bundles: every file of the widget in dist/, and the vendors' widgets built here from npm.
    let widget: ReturnType<typeof widgetBundles> = [];
    let vendors: VendorBundle[] = [];
    if (want('widget')) {
      widget = widgetBundles(join(ROOT, 'dist'));
      vendors = await vendorBundles(join(ROOT, 'bench/results/vendor-bundles.json'), log);
    }

    // -----------------------------------------------------------------------------------------------------
    const targets = judge({ nodes, throughput, signIns, refresh, memory, coldStart, widget });
    const row = (group: string, name: string, node = thisNode.label) => throughput.find((r) => r.group === group && r.name === name && r.node === node);
    const cpuRatio = (a?: ThroughputRow, b?: ThroughputRow) => (a && b ? a.cpuUsPerRequest / b.cpuUsPerRequest : undefined);
    const comparisons: Record<string, number | undefined> = {
      'warm /me, CPU per answer: Koa + iron-session ÷ BFF': cpuRatio(row('/me warm', 'Koa + iron-session'), row('/me warm', 'BFF')),
      'warm /me, CPU per answer: Koa + koa-session ÷ BFF': cpuRatio(row('/me warm', 'Koa + koa-session'), row('/me warm', 'BFF')),
      'warm /me, CPU per answer: BFF routed through @koa/router ÷ BFF': cpuRatio(row('/me warm', 'BFF routed through @koa/router'), row('/me warm', 'BFF')),
      'warm /me, CPU per answer: express-openid-connect ÷ BFF': cpuRatio(row('/me warm', 'express-openid-connect'), row('/me warm', 'BFF')),
      'warm /me, CPU per answer: BFF with the Redis store (with redis-server\'s) ÷ BFF': cpuRatio(row('/me warm', 'BFF with the Redis store'), row('/me warm', 'BFF')),
      'cold /me, CPU per answer: Koa + iron-session ÷ BFF': cpuRatio(row('/me cold', 'Koa + iron-session'), row('/me cold', 'BFF')),
      'cold /me, CPU per answer: Koa + koa-session ÷ BFF': cpuRatio(row('/me cold', 'Koa + koa-session'), row('/me cold', 'BFF')),
      'the middleware floor: bare Koa ÷ BFF GET /healthz (no session), CPU': cpuRatio(row('/me warm', 'bare Koa'), row('/me warm', 'BFF GET /healthz (no session)')),
      'cold ÷ warm /me, BFF, CPU per answer': cpuRatio(row('/me cold', 'BFF'), row('/me warm', 'BFF')),
    };
    const seconds = Math.round((performance.now() - started) / 1000);
    const report: BenchReport = {
      date: new Date().toISOString(),
      quick: QUICK,
      sections: ONLY ? [...ONLY] : [],
      machine: {
        nodes: Object.fromEntries(nodes.map((node) => [node.label, node.version])), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30),
        loadAverageBefore: loadBefore.map((v) => Number(v.toFixed(2))), loadAverageAfter: loadavg().map((v) => Number(v.toFixed(2))),
      },
      commit: gitDescribe(ROOT),
      settings: { ...SETTINGS, cookieBytes },
      targets,
      throughput,
      comparisons: Object.fromEntries(Object.entries(comparisons).filter((e): e is [string, number] => e[1] !== undefined && Number.isFinite(e[1]))),
      ...(signIns ? { signIn: signIns } : {}),
      ...(refresh ? { refresh: { me: { ...refresh.me, next: undefined }, api: { ...refresh.api, next: undefined } } } : {}),
      authorizationServerCallsDuringMeRuns: asDuringMe,
      memory,
      memoryBoundBytes: DEFAULT_UNSEAL_CACHE_BYTES,
      coldStart,
      widget,
      vendors,
      seconds,
    };

    process.stdout.write(`${renderText(report)}\n`);
    const outDir = FULL ? join(ROOT, 'bench/results') : mkdtempSync(join(tmpdir(), 'latch-bench-partial-'));
    mkdirSync(outDir, { recursive: true });
    // The tables in docs/bench.md and README.md are a full run on this machine's Node (CI's) with Node 24
    // beside it; a --node24 run (the whole bench on 24) is kept apart.
    const latest = NODE24 ? 'latest-node24' : 'latest';
    writeFileSync(join(outDir, `${latest}.json`), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(outDir, `${latest}.md`), renderMarkdown(report));
    if (FULL && !NODE24) {
      replaceBetweenMarkers(join(ROOT, 'docs/bench.md'), 'bench:latest', renderMarkdown(report, { footer: false }));
      replaceBetweenMarkers(join(ROOT, 'README.md'), 'bench:latest', renderTargetsMarkdown(report));
    }
    log(`results: ${join(outDir, `${latest}.json`)} and ${latest}.md (${seconds} s in all)`);
    if (PROFILES) log(`CPU profiles: ${PROFILES}/<server>/ (node --import tsx bench/lib/cpuprofile.ts <file>; the largest file of a folder is its main thread)`);
    if (asDuringMe !== 0) log(`WARNING: ${asDuringMe} calls reached the authorization server during the /me runs`);
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    log(`child logs: ${logDir}`);
    process.exitCode = 1;
  } finally {
    for (const child of children) await child.stop().catch(() => undefined);
    await provider?.close().catch(() => undefined);
    redisClient?.disconnect();
    await redis?.stop().catch(() => undefined);
    // With --cpu-prof the bundles stay, with their source maps, for bench/lib/cpuprofile.ts.
    if (process.exitCode !== 1 && !PROFILES) rmSync(workDir, { recursive: true, force: true });
  }
}

interface RefreshResult {
  path: string;
  requests: number;
  instances: number;
  ok: number;
  statuses: Record<string, number>;
  errors: Record<string, string>;
  tokenCalls: number;
  next?: Session;
}

function asCalls(provider: DevProvider): number {
  const c = provider.counts;
  return c.token + c.userinfo + c.authorization + c.revocation;
}

/**
 * The template session with claims added until its seal fills the three cookie chunks a session may
 * use (bff/session/cookies.ts; one more character and the BFF refuses to write it): the largest
 * session a cookie can carry, for the seal cache's bound.
 */
async function largestSession(template: Session, sessions: ReturnType<typeof bffSessions>): Promise<{ session: Session; cookie: string }> {
  const padded = (chars: number): Session => ({ ...template, user: { ...template.user, groups: Array.from({ length: Math.ceil(chars / 40) }, (_, i) => `group-${i}-${'g'.repeat(40)}`.slice(0, 40)) } });
  const sealed = async (chars: number) => sealOne(sessions, padded(chars)).catch(() => undefined);
  let lo = 0;
  let hi = 16_000;
  while (hi - lo > 40) {
    const mid = Math.floor((lo + hi) / 2);
    if (await sealed(mid)) lo = mid;
    else hi = mid;
  }
  return { session: padded(lo), cookie: (await sealed(lo))! };
}

function judge(m: {
  nodes: NodeRun[];
  throughput: ThroughputRow[];
  signIns: SignInFigures | undefined;
  refresh: { me: RefreshResult; api: RefreshResult } | undefined;
  memory: MemoryFigures[];
  coldStart: ColdStartFigures[];
  widget: ReturnType<typeof widgetBundles>;
}): Target[] {
  const notMeasured: Figure = { value: ONLY ? 'not measured (--only)' : 'not measured', baseline: '—', ratio: null, pass: null };
  const perNode = (compute: (node: string) => Figure | undefined, nodes = m.nodes) =>
    Object.fromEntries(nodes.map((node) => [node.label, compute(node.label) ?? notMeasured]));
  const first = [m.nodes[0]!];
  const row = (group: string, name: string, node: string) => m.throughput.find((r) => r.group === group && r.name === name && r.node === node);
  const us = (r: ThroughputRow) => `${r.cpuUsPerRequest.toLocaleString('en-US')} µs/answer (${r.rps.toLocaleString('en-US')} req/s)`;
  const cpuTarget = (group: string, name: string, base: string, baseLabel: string, min: number) => (node: string): Figure | undefined => {
    const a = row(group, name, node);
    const b = row(group, base, node);
    if (!a || !b) return undefined;
    const ratio = b.cpuUsPerRequest / a.cpuUsPerRequest;
    return { value: us(a), baseline: `${baseLabel} ${us(b)}`, ratio, pass: ratio >= min };
  };
  const KB = 1024;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const widgetMain = m.widget.find((f) => f.file === 'latch.iife.js');
  const callbackCpu = m.signIns?.cpuUs['/callback'];
  return [
    { id: 'warm-me', figure: 'warm /me CPU (same cookie)', target: `≥ ${TARGETS.warmMeCpu}× bare Koa`, results: perNode(cpuTarget('/me warm', 'BFF', 'bare Koa', 'bare Koa', TARGETS.warmMeCpu)) },
    { id: 'cold-me', figure: 'cold /me CPU (never-seen session each request)', target: `≥ ${TARGETS.coldMeCpu}× express-openid-connect`, results: perNode(cpuTarget('/me cold', 'BFF', 'express-openid-connect', 'express-openid-connect', TARGETS.coldMeCpu)) },
    { id: 'proxy', figure: 'API proxy CPU, GET /api/echo/…', target: `≥ ${TARGETS.proxyCpu}× the no-auth proxy`, results: perNode(cpuTarget('proxy', 'BFF proxy', 'no-auth proxy', 'no-auth proxy', TARGETS.proxyCpu)) },
    {
      // Reported, not judged: what a proof per call (an ES256 signature, about 60 µs) adds to the proxy.
      id: 'proxy-dpop', figure: 'API proxy with DPoP (LATCH_DPOP=true: a proof signed per call)', target: 'reported: the BFF proxy without DPoP ÷ with it',
      results: perNode((node) => {
        const f = cpuTarget('proxy', 'BFF proxy with DPoP', 'BFF proxy', 'without DPoP', 0)(node);
        return f && { ...f, pass: null };
      }),
    },
    {
      // The BFF process's CPU, as every other figure (redis-server, like the proxy's upstream, is another
      // process: in a deployment with a shared store, another machine); its CPU is shown beside.
      id: 'redis-me', figure: '/me with LATCH_SESSION_STORE=redis, throughput (CPU per answer)', target: `≥ ${TARGETS.redisMe}× bare Koa`,
      results: perNode((node) => {
        const r = row('/me warm', 'BFF with the Redis store', node);
        const b = row('/me warm', 'bare Koa', node);
        if (!r || !b) return undefined;
        const bffUs = r.cpuUsPerRequest - r.extraCpuUs;
        const ratio = b.cpuUsPerRequest / bffUs;
        return {
          value: `BFF ${bffUs} µs/answer (${r.rps.toLocaleString('en-US')} req/s; redis-server ${r.extraCpuUs} µs more: ${(b.cpuUsPerRequest / r.cpuUsPerRequest).toFixed(2)}× counting it)`,
          baseline: `bare Koa ${us(b)}`, ratio, pass: ratio >= TARGETS.redisMe,
        };
      }),
    },
    {
      id: 'callback', figure: "/callback's own CPU, the authorization server's time not in it", target: `≤ ${TARGETS.callbackCpuUs / 1000} ms p50`,
      results: perNode(() => {
        if (!callbackCpu?.length || !m.signIns) return undefined;
        const p50 = percentile(callbackCpu, 50);
        return { value: `${(p50 / 1000).toFixed(2)} ms p50 (${callbackCpu.length} sign-ins)`, baseline: `own time (wall − authorization server) ${percentile(m.signIns.ownMs, 50).toFixed(2)} ms p50`, ratio: null, pass: p50 <= TARGETS.callbackCpuUs };
      }, first),
    },
    {
      id: 'refresh', figure: `refresh: ${SETTINGS.refreshConcurrency.toLocaleString('en-US')} concurrent expired requests over ${SETTINGS.refreshInstances} instances sharing Redis`, target: `exactly 1 refresh per ${SETTINGS.refreshConcurrency.toLocaleString('en-US')}`,
      results: perNode(() => {
        const r = m.refresh;
        if (!r) return undefined;
        const ok = (x: RefreshResult) => x.tokenCalls === 1 && x.ok === x.requests;
        const code = (text: string) => /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? text.slice(0, 40);
        const others = [r.me, r.api].flatMap((x) => Object.entries(x.statuses).filter(([status]) => status !== '200').map(([status, count]) => `${count} × ${status} ${code(x.errors[status] ?? '')} via ${x.path.startsWith('/api') ? '/api' : '/me'}`));
        return { value: `${r.me.tokenCalls} token call(s) via /me, ${r.api.tokenCalls} via /api; ${r.me.ok + r.api.ok}/${r.me.requests + r.api.requests} answered 200${others.length ? ` (${others.join(', ')})` : ''}`, baseline: '—', ratio: null, pass: ok(r.me) && ok(r.api) };
      }, first),
    },
    {
      id: 'memory-rss', figure: `memory: RSS after ${SETTINGS.memorySessions.toLocaleString('en-US')} distinct sessions, cookie mode`, target: `≤ ${TARGETS.rssBytes / 1e6} MB`,
      results: perNode((node) => {
        const f = m.memory.find((x) => x.node === node);
        return f && { value: `${(f.rssAfterBytes / 1e6).toFixed(1)} MB`, baseline: `at rest ${(f.rssIdleBytes / 1e6).toFixed(1)} MB`, ratio: null, pass: f.rssAfterBytes <= TARGETS.rssBytes };
      }),
    },
    {
      id: 'memory-seal-cache', figure: 'memory: the seal cache holds its bound whatever the cookies (heap growth after full GC)', target: `≤ ${TARGETS.sealCacheHeapFactor}× its bound (${mib(TARGETS.sealCacheHeapFactor * DEFAULT_UNSEAL_CACHE_BYTES)})`,
      results: perNode((node) => {
        const f = m.memory.find((x) => x.node === node);
        if (!f) return undefined;
        const growths = [f.heap.afterDistinct, f.heap.afterLarge, f.heap.afterHostile].map((h) => h - f.heap.base);
        const worst = Math.max(...growths);
        return { value: `+${growths.map(mib).join(', +')} (distinct, largest, never-opening)`, baseline: `bound ${mib(DEFAULT_UNSEAL_CACHE_BYTES)}`, ratio: worst / DEFAULT_UNSEAL_CACHE_BYTES, pass: worst <= TARGETS.sealCacheHeapFactor * DEFAULT_UNSEAL_CACHE_BYTES };
      }),
    },
    {
      id: 'cold-start', figure: `Lambda cold start (import + first signed-in /me, median of ${SETTINGS.coldStartRuns})`, target: `≤ ${TARGETS.coldStartMs} ms`,
      results: perNode((node) => {
        const c = m.coldStart.find((x) => x.node === node);
        return c && { value: `${c.medianTotalMs.toFixed(0)} ms`, baseline: '—', ratio: null, pass: c.medianTotalMs <= TARGETS.coldStartMs };
      }),
    },
    {
      id: 'widget', figure: 'widget main bundle dist/latch.iife.js, brotli (every chunk: bench/results/latest.md)', target: `≤ ${TARGETS.widgetBrotli / KB} KB brotli`,
      results: perNode(() => widgetMain && { value: `${(widgetMain.brotli / KB).toFixed(2)} KB`, baseline: `latch.js (ES module) ${((m.widget.find((f) => f.file === 'latch.js')?.brotli ?? 0) / KB).toFixed(2)} KB`, ratio: null, pass: widgetMain.brotli <= TARGETS.widgetBrotli }, first),
    },
  ];
}

await main();

/**
 * The proxy with DPoP (issue 18): the 'BFF proxy' row's server, path and upstream, with the session
 * holding a DPoP key (what LATCH_DPOP=true puts there at sign-in), so each call signs a fresh proof and
 * sends `Authorization: DPoP`. The echo upstream checks neither. Records that cookie's size beside the others.
 */
async function dpopProxyEntry(node: string, server: ChildServer, proxyHeaders: () => Promise<Record<string, string>>, sessions: ReturnType<typeof bffSessions>, template: Session, cookieBytes: Record<string, number>): Promise<Entry> {
  const dk = newDpopKey();
  const headers = async () => ({ ...(await proxyHeaders()), cookie: await sealOne(sessions, template, { dk }) });
  cookieBytes['BFF with a DPoP key (LATCH_DPOP=true)'] = (await headers()).cookie.length;
  await expectStatus(`BFF proxy with DPoP (${node})`, `${server.url}${PROXY_PATH}`, await headers(), 200, { noSetCookie: true });
  return { group: 'proxy', name: 'BFF proxy with DPoP', node, baseline: 'BFF proxy', contender: { name: `BFF proxy with DPoP (${node})`, server, path: PROXY_PATH, headers } };
}

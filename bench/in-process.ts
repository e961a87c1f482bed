/**
 * `npm run bench:in-process`: the BFF's own CPU per request, with no network and no load generator:
 * each app's `callback()` answers requests made in memory (node:http IncomingMessage and
 * ServerResponse on an unconnected socket), one at a time. What is left is Koa, the BFF's edge and
 * route, and Node's header handling; the kernel's share and the load generator's (both large on the
 * 2-core machine `npm run bench` runs on) are not in it. Quick (about 20 s) and much steadier than
 * the HTTP figures, so it is the tool for judging a change to the hot path; `npm run bench` is the
 * judge of the targets.
 *
 *   bare Koa       one middleware answering /me's JSON body (the ceiling, as in `npm run bench`)
 *   BFF /healthz   the BFF's floor: the edge's checks and headers, the route table, no session
 *   BFF /me        a warm /me: the same sealed session cookie again and again
 *   BFF /me, @koa/router   the same, with the BFF's routes on @koa/router (bench/lib/koa-router.ts), as
 *                  the product was first specified: what the route table saves
 *
 * Each figure is the least CPU time per request over 7 rounds of 20,000 requests (after one unmeasured
 * round): the least disturbed round, on a machine shared with other work.
 */
import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { createBff } from '../bff/app.ts';
import { loadConfig } from '../bff/config.ts';
import { newSessionId, type Session } from '../bff/session/session.ts';
import { routeThroughKoaRouter } from './lib/koa-router.ts';
import { runOnRequestedNode } from './lib/node.ts';
import { bffSessions, sealOne } from './lib/sessions.ts';

// `npm run bench:in-process -- --node24`: the same on Node 24 (bench/lib/node.ts).
await runOnRequestedNode();

const ROUNDS = 8;
const PER_ROUND = 20_000;

const env = {
  LATCH_ISSUER: 'https://id.example.com',
  LATCH_CLIENT_ID: 'bench',
  LATCH_CLIENT_SECRET: 'bench-client-secret',
  LATCH_BASE_URL: 'https://auth.example.com',
  LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
  LATCH_ALLOWED_ORIGINS: 'https://www.example.com',
};
const bff = createBff(loadConfig(env), { logger: pino({ level: 'silent' }) });
const bffOnKoaRouter = routeThroughKoaRouter(createBff(loadConfig(env), { logger: pino({ level: 'silent' }) }));

// A session the size of a real one (JWT access token, ID token, refresh token: a ~2.6 KB cookie).
const now = Date.now();
const session: Session = {
  v: 1, sid: newSessionId(), user: { sub: 'user-1', name: 'Ada Lovelace', email: 'ada@example.com', email_verified: true },
  at: `eyJ${'a'.repeat(900)}`, atExp: now + 24 * 3600_000, rt: 'r'.repeat(300), idt: `eyJ${'i'.repeat(900)}`, iat: now, exp: now + 8 * 3600_000, seen: now,
};
const cookie = await sealOne(bffSessions(env), session);

const bare = new Koa();
const meBody = { user: session.user, expiresAt: session.exp, sameSite: null };
bare.use(async (ctx) => {
  if (ctx.method === 'GET' && ctx.path === '/me') ctx.body = meBody;
});

function request(path: string): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = path;
  req.headers = { host: 'auth.example.com', origin: 'https://www.example.com', accept: 'application/json', cookie };
  req.rawHeaders = Object.entries(req.headers).flat() as string[];
  return req;
}

/** CPU µs per request over `n` requests answered one after the other. */
async function round(app: Koa, path: string, n: number): Promise<number> {
  const handle = app.callback();
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const req = request(path);
    const res = new ServerResponse(req);
    await handle(req, res);
    if (res.statusCode !== 200) throw new Error(`${path}: answered ${res.statusCode}, expected 200`);
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / n;
}

const cases: Array<[string, Koa, string]> = [['bare Koa', bare, '/me'], ['BFF /healthz', bff, '/healthz'], ['BFF /me (warm)', bff, '/me'], ['BFF /me, @koa/router', bffOnKoaRouter, '/me']];
const best = new Map<string, number>();
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, app, path] of cases) {
    const us = await round(app, path, PER_ROUND);
    if (r > 0) best.set(name, Math.min(best.get(name) ?? Infinity, us));
  }
}
const base = best.get('bare Koa')!;
process.stdout.write(`In process, Node ${process.version}, CPU µs per request (least of ${ROUNDS - 1} rounds of ${PER_ROUND.toLocaleString('en-US')}):\n`);
for (const [name, us] of best) {
  process.stdout.write(`  ${name.padEnd(22)} ${us.toFixed(2).padStart(6)} µs   ${name === 'bare Koa' ? '' : `+${(us - base).toFixed(2)} µs over bare Koa, ratio ${(base / us).toFixed(2)}×`}\n`);
}

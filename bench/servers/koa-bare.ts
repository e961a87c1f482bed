/**
 * The ceilings the BFF is compared with, each a bare Koa app with no auth at all:
 *
 *   BENCH_MODE=me     GET /me answers a fixed JSON body (BENCH_ME_BODY: the very body the BFF's /me gives)
 *   BENCH_MODE=proxy  /api/<name>/<path> is forwarded to BENCH_UPSTREAM/<path> with node:http (the global
 *                     keep-alive agent, as the BFF's proxy uses), the answer streamed back
 *
 * Listens on 127.0.0.1:$PORT.
 */
import http from 'node:http';
import Koa from 'koa';

const mode = process.env['BENCH_MODE'] ?? 'me';
const port = Number(process.env['PORT']);
const app = new Koa();
app.silent = true;

if (mode === 'me') {
  const body = JSON.parse(process.env['BENCH_ME_BODY'] ?? '{"user":{"sub":"bench"},"expiresAt":0}') as object;
  app.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/me') ctx.body = body;
  });
} else if (mode === 'proxy') {
  const upstream = new URL(process.env['BENCH_UPSTREAM'] ?? 'http://127.0.0.1:1');
  app.use(async (ctx) => {
    const m = /^\/api\/[^/]+(\/.*)?$/.exec(ctx.url);
    if (!m) return;
    const target = new URL((m[1] ?? '/'), upstream);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(target, { method: ctx.method, headers: { accept: ctx.get('Accept') || '*/*' } }, resolve);
      req.once('error', reject);
      req.end();
    });
    ctx.status = res.statusCode ?? 502;
    const type = res.headers['content-type'];
    if (type) ctx.type = type;
    const length = res.headers['content-length'];
    if (length) ctx.length = Number(length);
    ctx.body = res;
  });
} else {
  throw new Error(`BENCH_MODE must be me or proxy, got ${mode}`);
}

http.createServer(app.callback()).listen(port, '127.0.0.1');

// Stopped by the bench with SIGTERM: exit at once (and write a --cpu-prof profile when asked for one).
process.once('SIGTERM', () => process.exit(0));

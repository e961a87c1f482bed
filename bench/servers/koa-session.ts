/**
 * Koa with koa-session, as the product was first specified: its cookie mode (the whole session in the
 * cookie, signed with koa's Keygrip), sealed by the `encode`/`decode` hooks of
 * bench/servers/koa-session-codec.ts (koa-session alone would send the tokens readable). GET /me
 * answers what the BFF's /me answers. Not rolling, not renewed: a read writes no cookie.
 *
 *   KOA_SESSION_SECRET   the signing key (app.keys) and the sealing secret
 *
 * Listens on 127.0.0.1:$PORT.
 */
import http from 'node:http';
import Koa from 'koa';
import session from 'koa-session';
import { answerMe } from './me-answer.ts';
import { KOA_SESSION_COOKIE, KOA_SESSION_MAX_AGE_MS, koaSessionCodec } from './koa-session-codec.ts';

const port = Number(process.env['PORT']);
const secret = process.env['KOA_SESSION_SECRET'];
if (!secret) throw new Error('KOA_SESSION_SECRET is required');

const app = new Koa();
app.silent = true;
app.keys = [secret];
const codec = koaSessionCodec(secret);
app.use(
  session(
    {
      key: KOA_SESSION_COOKIE,
      maxAge: KOA_SESSION_MAX_AGE_MS,
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: false,
      rolling: false,
      renew: false,
      encode: codec.encode,
      decode: codec.decode,
    },
    app,
  ),
);
app.use(async (ctx) => {
  if (ctx.method !== 'GET' || ctx.path !== '/me') return;
  answerMe(ctx, ctx.session as { user?: object; exp?: number } | null);
});

http.createServer(app.callback()).listen(port, '127.0.0.1');

// Stopped by the bench with SIGTERM: exit at once (and write a --cpu-prof profile when asked for one).
process.once('SIGTERM', () => process.exit(0));

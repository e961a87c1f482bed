/**
 * Koa with iron-session, as the product was first specified: GET /me opens the sealed session cookie
 * with iron-session's `getIronSession` (Fe26.2 on WebCrypto, nothing cached: every request opens its
 * cookie) and answers what the BFF's /me answers. The cookie holds the BFF's own session object (the
 * same claims and tokens); the bench seals it with iron-session's `sealData` (bench/lib/sessions.ts).
 *
 *   IRON_PASSWORD   the password (at least 32 characters)
 *
 * Listens on 127.0.0.1:$PORT.
 */
import http from 'node:http';
import { getIronSession } from 'iron-session';
import Koa from 'koa';
import type { Session } from '../../bff/session/session.ts';
import { answerMe } from './me-answer.ts';

const port = Number(process.env['PORT']);
const password = process.env['IRON_PASSWORD'];
if (!password) throw new Error('IRON_PASSWORD is required');

const app = new Koa();
app.silent = true;
app.use(async (ctx) => {
  if (ctx.method !== 'GET' || ctx.path !== '/me') return;
  const session = await getIronSession<Partial<Session>>(ctx.req, ctx.res, {
    password,
    cookieName: 'latch',
    ttl: 8 * 3600,
    cookieOptions: { secure: false, httpOnly: true, sameSite: 'lax' },
  });
  answerMe(ctx, session);
});

http.createServer(app.callback()).listen(port, '127.0.0.1');

// Stopped by the bench with SIGTERM: exit at once (and write a --cpu-prof profile when asked for one).
process.once('SIGTERM', () => process.exit(0));

/**
 * The demo API: a tiny Koa app protected by requireToken, as a microsite's own API would be.
 * `npm start` runs it on loopback and routes `/api/demo/...` to it through the BFF (LATCH_API_ROUTES);
 * the dev provider issues JWT access tokens (RFC 9068) for DEMO_API_RESOURCE, so the page's
 * `latch.fetch('/api/demo/hello')` reaches it with the signed-in user's token. Dev/test only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { requireToken, type AccessTokenState } from '../bff/resource/require-token.ts';

/** The demo API's identifier: the `aud` of its tokens, and the resource indicator that asks for them. */
export const DEMO_API_RESOURCE = 'https://demo-api.latch.test';
/** The scope GET /hello requires. */
export const DEMO_API_SCOPE = 'demo:read';

export interface DemoApiOptions {
  /** The issuer whose tokens are accepted (its JWKS is discovered). */
  issuer: string;
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (a free port) */
  port?: number;
}

export interface DemoApi {
  url: string;
  close(): Promise<void>;
}

/** Routed with @koa/router, as docs/api.md shows a microsite's own API doing it. */
export function demoApiApp(issuer: string): Koa {
  const app = new Koa();
  app.silent = true;
  const readDemo = requireToken({
    issuer,
    audience: DEMO_API_RESOURCE,
    scopes: [DEMO_API_SCOPE],
    realm: 'demo-api',
    // The dev provider serves http on loopback.
    allowInsecureHttp: new URL(issuer).protocol === 'http:',
  });
  const router = new Router();
  router.get('/hello', readDemo, (ctx) => {
    const { claims, scopes } = (ctx.state as AccessTokenState).accessToken;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      message: `Hello, ${String(claims.sub)}. This answer comes from the demo API, which checked your access token.`,
      sub: claims.sub,
      scopes,
      audience: claims.aud,
      client_id: claims['client_id'],
      token_expires_at: typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : null,
    };
  });
  app.use(router.routes());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { error: 'not_found' };
  });
  return app;
}

export async function startDemoApi(options: DemoApiOptions): Promise<DemoApi> {
  const server = createServer(demoApiApp(options.issuer).callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

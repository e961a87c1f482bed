/**
 * The BFF's route table (bff/routes/table.ts) behind the real edge middleware, answered in memory
 * through the app's callback() (test/helpers/in-memory.ts): exact paths
 * and patterns, HEAD on GET routes, a trailing slash, 405 with Allow for a known path's other
 * methods (coded JSON, never a 500), OPTIONS, 404 for unknown paths, handlers run in order, and the
 * matched route's pattern (never the raw path) for the metrics.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import Koa from 'koa';
import { pino } from 'pino';
import { LatchError } from '../../../bff/errors.ts';
import { edge } from '../../../bff/middleware/edge.ts';
import { matchedRoute, RouteTable } from '../../../bff/routes/table.ts';
import { inMemory, type InMemory } from '../../helpers/in-memory.ts';

describe('RouteTable', () => {
  let server: InMemory;
  const seen: Array<string | undefined> = [];

  before(async () => {
    const routes = new RouteTable()
      .get('/me', (ctx) => {
        ctx.body = { route: 'me' };
      })
      .post('/logout', async (ctx, next) => {
        ctx.set('X-Order', 'first');
        await next();
      }, (ctx) => {
        ctx.body = { route: 'logout', order: ctx.response.get('X-Order') };
      })
      .get('/both', (ctx) => {
        ctx.body = { route: 'both-get' };
      })
      .post('/both', (ctx) => {
        ctx.body = { route: 'both-post' };
      })
      .get(/^\/latch[\w.-]*\.js$/, (ctx) => {
        ctx.body = { route: 'asset', path: ctx.path };
      })
      .all(/^\/api(?:\/|$)/, (ctx) => {
        ctx.body = { route: 'api', method: ctx.method };
      });
    const app = new Koa();
    app.silent = true;
    app.use(async (ctx, next) => {
      await next();
      const route = matchedRoute(ctx);
      seen.push(route === undefined ? undefined : String(route.path));
    });
    app.use(edge(pino({ level: 'silent' }), []));
    app.use(routes.middleware());
    server = inMemory(app);
  });

  const call = async (path: string, method = 'GET') => {
    const res = await server.fetch(path, { method });
    const text = await res.text();
    return { status: res.status, allow: res.headers.get('allow'), body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };

  it('finds exact paths, with or without a trailing slash, and answers HEAD on GET routes', async () => {
    assert.deepEqual((await call('/me')).body, { route: 'me' });
    assert.deepEqual((await call('/me/')).body, { route: 'me' });
    const head = await call('/me', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, undefined);
    assert.equal(seen.at(-1), '/me');
  });

  it('runs a route\'s handlers in the order given', async () => {
    assert.deepEqual((await call('/logout', 'POST')).body, { route: 'logout', order: 'first' });
  });

  it('tells two methods of one path apart', async () => {
    assert.deepEqual((await call('/both')).body, { route: 'both-get' });
    assert.deepEqual((await call('/both', 'POST')).body, { route: 'both-post' });
  });

  it('tests patterns against the whole path, and names the pattern for the metrics', async () => {
    assert.deepEqual((await call('/latch.iife.js')).body, { route: 'asset', path: '/latch.iife.js' });
    assert.equal(seen.at(-1), String(/^\/latch[\w.-]*\.js$/));
    assert.equal((await call('/x/latch.js')).status, 404);
    assert.deepEqual((await call('/api/orders/1', 'DELETE')).body, { route: 'api', method: 'DELETE' });
    assert.deepEqual((await call('/api', 'PROPFIND')).body, { route: 'api', method: 'PROPFIND' });
    assert.equal((await call('/apis')).status, 404);
  });

  it('answers a known path\'s other methods 405 LATCH_METHOD_NOT_ALLOWED with Allow', async () => {
    const res = await call('/logout');
    assert.equal(res.status, 405);
    assert.equal(res.allow, 'POST');
    assert.deepEqual(res.body, { error: { code: 'LATCH_METHOD_NOT_ALLOWED', message: 'This method is not allowed here.' } });
    assert.equal(seen.at(-1), '/logout');
    const put = await call('/both', 'PUT');
    assert.equal(put.status, 405);
    assert.equal(put.allow, 'GET, HEAD, POST');
    assert.equal((await call('/me', 'PROPFIND')).status, 405);
  });

  it('answers OPTIONS (no CORS preflight) 204 with Allow', async () => {
    const res = await call('/me', 'OPTIONS');
    assert.equal(res.status, 204);
    assert.equal(res.allow, 'GET, HEAD');
  });

  it('leaves unknown paths to the edge: 404 LATCH_NOT_FOUND, no route named', async () => {
    const res = await call('/nope');
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: { code: 'LATCH_NOT_FOUND', message: 'Not found.' } });
    assert.equal(seen.at(-1), undefined);
  });

  it('refuses to register a path with a trailing slash or a route without a handler', () => {
    assert.throws(() => new RouteTable().get('/me/', () => undefined), /trailing slash/);
    assert.throws(() => new RouteTable().get('/me'), /no handler/);
    assert.throws(() => new RouteTable().get('/me', { rateLimited: true }), /no handler/);
  });

  it('refuses a route that declares csrf when the table has no CSRF check to run', () => {
    assert.throws(() => new RouteTable().post('/logout', { csrf: true }, () => undefined), /no CSRF check/);
  });

  it('looks up the route a path and method reach, with its traits, without running it', () => {
    let ran = 0;
    const table = new RouteTable({ csrf: () => void ran++ })
      .get('/login', { navigation: true, rateLimited: true }, () => void ran++)
      .get('/me', () => void ran++)
      .post('/logout', { csrf: true }, () => void ran++)
      .get('/healthz', { anyHost: true }, () => void ran++)
      .all(/^\/api(?:\/|$)/, { csrf: true }, () => void ran++);
    assert.deepEqual(table.lookup('/login', 'GET')?.traits, { navigation: true, rateLimited: true });
    assert.deepEqual(table.lookup('/login/', 'HEAD')?.traits, { navigation: true, rateLimited: true }, 'the spellings the table routes');
    assert.deepEqual(table.lookup('/logout/', 'POST')?.traits, { csrf: true });
    assert.deepEqual(table.lookup('/api/x', 'DELETE')?.traits, { csrf: true });
    assert.deepEqual(table.at('/healthz/').map((route) => route.traits), [{ anyHost: true }], 'a path\'s routes, whatever the method');
    assert.deepEqual(table.at('/nope'), []);
    assert.equal(table.lookup('/login', 'POST'), undefined, 'another method reaches no route (405)');
    assert.equal(table.lookup('/login//', 'GET'), undefined);
    assert.equal(table.lookup('/LOGIN', 'GET'), undefined);
    assert.deepEqual(table.lookup('/me', 'GET')?.traits, {});
    assert.equal(String(table.lookup('/api/x', 'PATCH')?.path), String(/^\/api(?:\/|$)/));
    assert.equal(ran, 0);
  });
});

describe('RouteTable.route(ctx)', () => {
  it('finds the route a request reaches once, and the middleware runs that one', async () => {
    const table = new RouteTable().get('/me', { navigation: true }, (ctx) => {
      ctx.body = { route: 'me' };
    });
    const app = new Koa();
    app.silent = true;
    const seen: unknown[] = [];
    app.use(async (ctx, next) => {
      // As the edge's checks do: ask before routing, twice; the answer is kept on ctx.state.
      seen.push(table.route(ctx)?.traits, table.route(ctx) === (ctx.state.latchRoute ?? undefined));
      try {
        await next();
      } finally {
        seen.push(ctx.state.latchRoute === null ? null : matchedRoute(ctx) === ctx.state.latchRoute);
      }
    });
    app.use(table.middleware());
    const { fetch } = inMemory(app);
    assert.deepEqual(await (await fetch('/me/')).json(), { route: 'me' });
    assert.deepEqual(seen, [{ navigation: true }, true, true]);
    seen.length = 0;
    assert.equal((await fetch('/me', { method: 'POST' })).status, 405);
    assert.deepEqual(seen, [undefined, true, null], 'no route takes POST: none is kept (null), and the table answers 405');
  });
});

describe('RouteTable: the csrf trait', () => {
  it('runs the table\'s CSRF check first on the routes that declare it, on every spelling, and on no other route', async () => {
    const checked: string[] = [];
    const table = new RouteTable({
      csrf: (ctx) => {
        checked.push(ctx.path);
        if (ctx.get('latch-csrf') !== '1') throw new LatchError('LATCH_CSRF');
      },
    })
      .post('/logout', { csrf: true }, (ctx) => {
        ctx.body = { route: 'logout' };
      })
      .post('/backchannel-logout', (ctx) => {
        ctx.body = { route: 'backchannel' };
      });
    const app = new Koa();
    app.silent = true;
    app.use(edge(pino({ level: 'silent' }), []));
    app.use(table.middleware());
    const { fetch } = inMemory(app);
    const post = (path: string, headers: Record<string, string> = {}) => fetch(path, { method: 'POST', headers });
    const refused = await post('/logout/');
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'LATCH_CSRF');
    assert.deepEqual(await (await post('/logout', { 'latch-csrf': '1' })).json(), { route: 'logout' });
    assert.deepEqual(await (await post('/backchannel-logout')).json(), { route: 'backchannel' });
    assert.equal((await fetch('/logout')).status, 405, 'another method reaches no route: no check, 405');
    assert.deepEqual(checked, ['/logout/', '/logout']);
  });
});

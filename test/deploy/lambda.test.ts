import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { createLambdaHandler, eventKind, handler, toLambdaHandler, type LambdaEvent, type LambdaResult } from '../../bff/lambda.ts';
import { startDevProvider, type DevProvider } from '../../dev/provider.ts';
import { followLogoutHandle, HttpClient, signIn } from '../helpers/http.ts';
import { freePort } from '../helpers/net.ts';
import { fixture, startGateway, type Gateway, type Source } from './aws-gateway.ts';
import { captureLogs } from '../helpers/logs.ts';
import { SessionCookies } from '../../bff/session/session-cookies.ts';
import { Sessions } from '../../bff/session/sessions.ts';
import { createSession } from '../../bff/session/session.ts';

const SITE = 'http://www.latch.test:8080';

const setCookieNames = (setCookies: string[]) => setCookies.map((c) => c.slice(0, c.indexOf('=')));
const cleared = (c: string) => /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(c);
const errorCode = (text: string) => /LATCH_[A-Z_]+/.exec(text)?.[0];

/** Where the event carried the request's cookies, as one string. */
function eventCookies(event: LambdaEvent): string {
  const e = event as { cookies?: string[]; headers?: Record<string, string>; multiValueHeaders?: Record<string, string[]> };
  if (e.cookies) return e.cookies.join('; ');
  const multi = Object.entries(e.multiValueHeaders ?? {}).find(([n]) => n.toLowerCase() === 'cookie')?.[1];
  if (multi) return multi.join('; ');
  return Object.entries(e.headers ?? {}).find(([n]) => n.toLowerCase() === 'cookie')?.[1] ?? '';
}

interface Deployment {
  source: Source;
  gateway: Gateway;
  logs: string[];
}

describe('bff/lambda.ts: a whole login through each event source', () => {
  let provider: DevProvider;
  const deployments = new Map<Source, Deployment>();
  const stages: Partial<Record<Source, string>> = { rest: 'prod', 'http-api': 'prod' };
  const sources: Source[] = ['rest', 'http-api', 'function-url', 'alb', 'alb-single'];
  const savedEnv = { ...process.env };
  const cookieSecrets = new Map<Source, string>();

  before(async () => {
    const ports = new Map<Source, number>();
    for (const source of sources) ports.set(source, await freePort());
    const base = (source: Source) => `http://127.0.0.1:${ports.get(source)}${stages[source] ? `/${stages[source]}` : ''}`;
    const secrets = new Map(sources.map((s) => [s, randomBytes(24).toString('base64url')]));
    for (const source of sources) cookieSecrets.set(source, randomBytes(32).toString('base64url'));
    provider = await startDevProvider({
      clients: sources.map((source) => ({
        client_id: `latch-${source}`,
        client_secret: secrets.get(source)!,
        redirect_uris: [`${base(source)}/callback`],
        post_logout_redirect_uris: [`${SITE}/`],
      })),
    });
    for (const source of sources) {
      const env = {
        LATCH_ISSUER: provider.issuer,
        LATCH_CLIENT_ID: `latch-${source}`,
        LATCH_CLIENT_SECRET: secrets.get(source)!,
        LATCH_BASE_URL: base(source),
        LATCH_COOKIE_SECRET: cookieSecrets.get(source)!,
        LATCH_ALLOWED_ORIGINS: SITE,
        LATCH_ALLOW_INSECURE_HTTP: 'true',
        LATCH_HTTP_TIMEOUT_MS: '3000',
      };
      const { lines, logger } = captureLogs();
      let invoke;
      if (source === 'function-url') {
        // The module's own `handler`, configured from process.env like a deployed function.
        Object.assign(process.env, env, { LATCH_LOG_LEVEL: 'silent' });
        invoke = handler;
      } else {
        invoke = createLambdaHandler(env, { logger });
      }
      const gateway = await startGateway(source, invoke, { port: ports.get(source)!, ...(stages[source] ? { stage: stages[source] } : {}) });
      deployments.set(source, { source, gateway, logs: lines });
    }
  });

  after(async () => {
    for (const d of deployments.values()) await d.gateway.close();
    await provider?.close();
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  for (const source of ['rest', 'http-api', 'function-url', 'alb'] as const) {
    it(`${source}: /login → provider → /callback → /me → /logout, every cookie kept on each hop`, async () => {
      const { gateway } = deployments.get(source)!;
      const bff = gateway.url;
      const client = new HttpClient();
      const returnTo = `${SITE}/members?tab=1`;

      // /login: one transaction cookie reaches the browser.
      const loginUrl = `${bff}/login?returnTo=${encodeURIComponent(returnTo)}`;
      const login = await new HttpClient().request(loginUrl);
      assert.equal(login.status, 302, login.text);
      assert.deepEqual(setCookieNames(login.setCookies).filter((n) => n.startsWith('latch-tx-')).length, 1, `Set-Cookie: ${login.setCookies.join(' | ')}`);
      const authorize = new URL(login.location!);
      assert.equal(authorize.origin, provider.issuer);
      assert.equal(authorize.searchParams.get('redirect_uri'), `${bff}/callback`, 'the redirect URI keeps the stage');

      // The provider, then /callback: both Set-Cookies (transaction cleared, session) reach the browser.
      const { finalUrl, callbackResult } = await signIn(client, loginUrl, provider.users[0]!);
      assert.equal(finalUrl.href, returnTo);
      assert.ok(callbackResult, 'the callback was reached');
      assert.equal(callbackResult.status, 302, callbackResult.text);
      const names = setCookieNames(callbackResult.setCookies);
      assert.equal(callbackResult.setCookies.length, 2, `Set-Cookie: ${names.join(', ')}`);
      assert.ok(callbackResult.setCookies.some((c) => c.startsWith('latch-tx-') && cleared(c)), 'the transaction cookie is cleared');
      const session = callbackResult.setCookies.find((c) => c.startsWith('latch='));
      assert.ok(session && !cleared(session), 'the session cookie is set');
      const callbackEvent = gateway.events.find((e) => JSON.stringify(e).includes('/callback'))!;
      assert.match(eventCookies(callbackEvent), /latch-tx-/, 'the transaction cookie travelled in the event');

      // /me: the session cookie travels in the event and is accepted.
      const me = await client.request(`${bff}/me`, { headers: { origin: SITE } });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.json<{ user: { email: string } }>().user.email, provider.users[0]!.email);
      assert.equal(me.headers.get('access-control-allow-origin'), SITE);
      assert.match(eventCookies(gateway.events.at(-1)!), /(^|; )latch=/);

      // /logout clears it.
      const out = await client.request(`${bff}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
      assert.equal(out.status, 200, out.text);
      assert.ok(out.setCookies.some((c) => c.startsWith('latch=') && cleared(c)), 'the session cookie is cleared');
      // Through the gateway, the page's logoutUrl (the BFF's own, stage kept) leads to the provider.
      const { logoutUrl } = out.json<{ logoutUrl: string }>();
      assert.ok(logoutUrl.startsWith(`${bff}/logout/end?handle=`), logoutUrl);
      assert.ok((await followLogoutHandle(client, logoutUrl)).href.startsWith(provider.issuer));
      const gone = await client.request(`${bff}/me`);
      assert.equal(gone.status, 401);
    });

    it(`${source}: keeps both values of a repeated query parameter`, async () => {
      const { gateway } = deployments.get(source)!;
      const res = await new HttpClient().request(`${gateway.url}/callback?code=x&state=one&state=two`);
      assert.equal(res.status, 400);
      assert.equal(errorCode(res.text), 'LATCH_CALLBACK_INVALID', 'two states seen, not one merged value');
    });
  }

  it('rest: the event path has no stage, requestContext.path has it, and the handler routes it', () => {
    const events = deployments.get('rest')!.gateway.events as Array<{ path: string; requestContext: { path: string; stage: string } }>;
    const login = events.find((e) => e.path === '/login')!;
    assert.equal(login.requestContext.stage, 'prod');
    assert.equal(login.requestContext.path, '/prod/login');
  });

  it('http-api: rawPath carries the stage and the handler removes it', () => {
    const events = deployments.get('http-api')!.gateway.events as Array<{ rawPath: string; cookies?: string[]; headers: Record<string, string> }>;
    assert.ok(events.some((e) => e.rawPath === '/prod/login'));
    assert.ok(events.every((e) => !('cookie' in e.headers)), 'payload 2.0 carries cookies in cookies[] only');
    assert.ok(events.some((e) => (e.cookies?.length ?? 0) >= 1));
  });

  it('does not offer GET /events (no streams on Lambda): 404 LATCH_NOT_FOUND, where a server answers 401 without a session', async () => {
    for (const source of ['http-api', 'function-url'] as const) {
      const res = await new HttpClient().request(`${deployments.get(source)!.gateway.url}/events`, { headers: { origin: SITE } });
      assert.equal(res.status, 404, `${source}: ${res.text}`);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'LATCH_NOT_FOUND');
    }
  });

  it('function-url: the exported handler read its configuration once, at the first invocation', async () => {
    const { gateway } = deployments.get('function-url')!;
    process.env['LATCH_CLIENT_ID'] = 'changed-after-cold-start';
    process.env['LATCH_COOKIE_SECRET'] = 'short';
    const res = await new HttpClient().request(`${gateway.url}/login?returnTo=${encodeURIComponent(SITE + '/')}`);
    assert.equal(res.status, 302);
    assert.equal(new URL(res.location!).searchParams.get('client_id'), 'latch-function-url');
  });

  it('alb without multi-value headers: a sign-in answers 500 LATCH_ALB_MULTI_VALUE_HEADERS and says why, rather than dropping its session cookie', async () => {
    const { gateway, logs } = deployments.get('alb-single')!;
    const client = new HttpClient();
    const loginUrl = `${gateway.url}/login?returnTo=${encodeURIComponent(SITE + '/')}`;
    const login = await new HttpClient().request(loginUrl);
    assert.equal(login.status, 302, 'one cookie fits in a single-value answer');
    assert.equal(login.setCookies.length, 1);
    const { callbackResult } = await signIn(client, loginUrl, provider.users[0]!);
    assert.equal(callbackResult?.status, 500);
    assert.equal(errorCode(callbackResult.text), 'LATCH_ALB_MULTI_VALUE_HEADERS');
    assert.match(callbackResult.json<{ error: { message: string } }>().error.message, /multi-value headers/);
    // Only the spent transaction's removal goes; never the session without its companions.
    assert.deepEqual(callbackResult.setCookies.filter((c) => !cleared(c)), []);
    assert.ok(callbackResult.setCookies.every((c) => c.startsWith('latch-tx-')), callbackResult.setCookies.join(' | '));
    assert.match(logs.join(''), /lambda\.multi_value_headers\.enabled/);
  });

  it('alb without multi-value headers: /logout ends the session, clears the session cookie and answers LATCH_ALB_MULTI_VALUE_HEADERS, never a bare 500', async () => {
    const { gateway, logs } = deployments.get('alb-single')!;
    // A session of this deployment, sealed as /callback would have (a sign-in cannot complete here).
    const sessions = new SessionCookies(new Sessions({ secrets: [cookieSecrets.get('alb-single')!], maxAge: 3600 }), { secure: false });
    const session = createSession({ tokens: { accessToken: randomBytes(16).toString('base64url'), expiresAt: Date.now() + 3600_000 }, user: { sub: 'alb-user' } }, 3600);
    const [set] = await sessions.write(session);
    const cookie = set!.split(';')[0]!;
    const me = () => new HttpClient().request(`${gateway.url}/me`, { headers: { cookie, origin: SITE } });
    assert.equal((await me()).status, 200, 'the session works before');

    const out = await new HttpClient().request(`${gateway.url}/logout`, { method: 'POST', headers: { cookie, origin: SITE, 'latch-csrf': '1' } });
    assert.equal(out.status, 500);
    assert.equal(errorCode(out.text), 'LATCH_ALB_MULTI_VALUE_HEADERS', out.text);
    assert.equal(out.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(setCookieNames(out.setCookies), ['latch'], 'the main session cookie, alone');
    assert.ok(cleared(out.setCookies[0]!), out.setCookies[0]);
    assert.equal((await me()).status, 401, 'the session ended server-side too: a copy of the cookie is refused');
    assert.match(logs.join(''), /LATCH_ALB_MULTI_VALUE_HEADERS/);
  });

  it('alb without multi-value headers: keeps the last of repeated parameters, as the ALB does', async () => {
    const { gateway } = deployments.get('alb-single')!;
    const res = await new HttpClient().request(`${gateway.url}/callback?code=x&state=one&state=two`);
    assert.equal(res.status, 400);
    assert.equal(errorCode(res.text), 'LATCH_STATE_MISMATCH');
  });
});

/** A tiny app that shows what it was given and answers with several cookies, or bytes. */
function echoApp() {
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    for (const name of ['a', 'b', 'c']) ctx.append('Set-Cookie', `${name}=${name}1; Path=/; HttpOnly; Expires=Wed, 21 Oct 2037 07:28:00 GMT`);
    if (ctx.path.endsWith('/bytes')) {
      ctx.type = 'application/octet-stream';
      ctx.body = body;
      return;
    }
    if (ctx.path.endsWith('/one-cookie')) ctx.remove('Set-Cookie'), ctx.append('Set-Cookie', ['only=1; Path=/']);
    ctx.body = {
      method: ctx.method,
      url: ctx.url,
      cookie: ctx.get('Cookie'),
      ip: ctx.ip,
      body: body.toString('utf8'),
      sha256: createHash('sha256').update(body).digest('hex'),
    };
  });
  return app;
}

type Echo = { method: string; url: string; cookie: string; ip: string; body: string; sha256: string };
const echoOf = (result: LambdaResult) => JSON.parse(Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8').toString('utf8')) as Echo;

describe('bff/lambda.ts toLambdaHandler: the documented events as they are', () => {
  const invoke = toLambdaHandler(echoApp());
  const withBody = (event: Record<string, unknown>, bytes: Buffer, headerStyle: 'v1' | 'v2' | 'alb') => {
    const e = structuredClone(event);
    e['body'] = bytes.toString('base64');
    e['isBase64Encoded'] = true;
    if (headerStyle === 'v2') (e['headers'] as Record<string, string>)['content-type'] = 'application/octet-stream';
    else (e['multiValueHeaders'] as Record<string, string[]>)['content-type'] = ['application/octet-stream'];
    if (headerStyle === 'v1') (e['headers'] as Record<string, string>)['Content-Type'] = 'application/octet-stream';
    return e;
  };

  it('tells the event kinds apart', () => {
    assert.equal(eventKind(fixture('rest')), 'v1');
    assert.equal(eventKind(fixture('http-api')), 'v2');
    assert.equal(eventKind(fixture('function-url')), 'v2');
    assert.equal(eventKind(fixture('alb')), 'alb');
    assert.equal(eventKind(fixture('alb-single')), 'alb-single');
  });

  it('REST (1.0): multi-value query and headers in, every Set-Cookie in multiValueHeaders out', async () => {
    const result = await invoke(fixture('rest'));
    const echo = echoOf(result);
    assert.equal(echo.method, 'POST');
    const url = new URL(echo.url, 'http://x');
    assert.equal(url.pathname, '/hello/world', 'path has no stage');
    assert.deepEqual(url.searchParams.getAll('multivalueName'), ['you', 'me']);
    assert.deepEqual(url.searchParams.getAll('name'), ['me']);
    assert.equal(echo.body, '{\r\n\t"a": 1\r\n}');
    assert.equal(echo.ip, '192.168.196.186', 'the source IP, not X-Forwarded-For (LATCH_TRUST_PROXY is off)');
    assert.deepEqual(result.multiValueHeaders?.['set-cookie']?.map((c) => c.split(';')[0]), ['a=a1', 'b=b1', 'c=c1']);
    assert.equal(Object.keys(result.headers ?? {}).some((n) => n.toLowerCase() === 'set-cookie'), false);
    assert.equal(result.isBase64Encoded, false);
  });

  for (const source of ['http-api', 'function-url'] as const) {
    it(`${source} (2.0): cookies[] in as one Cookie header, rawQueryString as is, cookies[] out`, async () => {
      const result = await invoke(fixture(source));
      const echo = echoOf(result);
      assert.equal(echo.cookie, 'cookie1; cookie2');
      assert.equal(echo.url, '/my/path?parameter1=value1&parameter1=value2&parameter2=value');
      assert.deepEqual(result.cookies?.map((c) => c.split(';')[0]), ['a=a1', 'b=b1', 'c=c1']);
      assert.match(result.cookies![0]!, /Expires=Wed, 21 Oct 2037 07:28:00 GMT/, 'an Expires with a comma stays one cookie');
      assert.equal(Object.keys(result.headers ?? {}).some((n) => n.toLowerCase() === 'set-cookie'), false);
      assert.equal(result.multiValueHeaders, undefined);
    });
  }

  it('2.0: a single Set-Cookie goes to cookies[] too (function URLs ignore set-cookie headers)', async () => {
    const event = fixture('function-url');
    event['rawPath'] = '/one-cookie';
    const result = await invoke(event);
    assert.deepEqual(result.cookies, ['only=1; Path=/']);
  });

  it('2.0: a named stage is removed from rawPath; $default is not', async () => {
    const event = fixture('http-api') as { rawPath: string; requestContext: { stage: string } };
    event.rawPath = '/prod/my/path';
    event.requestContext.stage = 'prod';
    assert.equal(echoOf(await invoke(event as unknown as LambdaEvent)).url.split('?')[0], '/my/path');
    const plain = fixture('http-api') as { rawPath: string };
    plain.rawPath = '/prod/my/path';
    assert.equal(echoOf(await invoke(plain as unknown as LambdaEvent)).url.split('?')[0], '/prod/my/path');
  });

  it('removes the base path of LATCH_BASE_URL (a custom domain mapping, an ALB path rule)', async () => {
    const mapped = toLambdaHandler(echoApp(), { basePath: '/auth' });
    const event = fixture('alb');
    event['path'] = '/auth/me';
    assert.equal(echoOf(await mapped(event)).url.split('?')[0], '/me');
    event['path'] = '/authx';
    assert.equal(echoOf(await mapped(event)).url.split('?')[0], '/authx');
  });

  it('ALB with multi-value headers: every Cookie header in, every Set-Cookie out in multiValueHeaders', async () => {
    const result = await invoke(fixture('alb'));
    const echo = echoOf(result);
    assert.equal(echo.cookie, 'name1=value1; name2=value2');
    assert.deepEqual(new URL(echo.url, 'http://x').searchParams.getAll('myKey'), ['val1', 'val2']);
    assert.deepEqual(result.multiValueHeaders?.['set-cookie']?.length, 3);
    assert.equal(result.headers, undefined, 'an ALB with multi-value headers reads multiValueHeaders only');
    assert.deepEqual(result.multiValueHeaders?.['content-type'], ['application/json; charset=utf-8']);
  });

  it('ALB: the client address is the one the ALB appended to X-Forwarded-For', async () => {
    const event = fixture('alb');
    (event['multiValueHeaders'] as Record<string, string[]>)['x-forwarded-for'] = ['198.51.100.1, 72.21.198.66'];
    assert.equal(echoOf(await invoke(event)).ip, '72.21.198.66');
    const single = fixture('alb-single');
    single['path'] = '/one-cookie'; // a single-value ALB answer holds one cookie at most
    assert.equal(echoOf(await invoke(single)).ip, '72.12.164.125');
  });

  it('ALB: URL-decodes query values (the ALB passes them as sent)', async () => {
    const event = fixture('alb');
    event['multiValueQueryStringParameters'] = { returnTo: ['https%3A%2F%2Fwww.example.com%2Fa%3Fb%3D1'], q: ['a+b'] };
    const url = new URL(echoOf(await invoke(event)).url, 'http://x');
    assert.equal(url.searchParams.get('returnTo'), 'https://www.example.com/a?b=1');
    assert.equal(url.searchParams.get('q'), 'a b');
  });

  it('ALB without multi-value headers: one Set-Cookie in headers; several are a 500, never a lost cookie', async () => {
    const one = fixture('alb-single');
    one['path'] = '/one-cookie';
    const single = await invoke(one);
    assert.equal(single.statusCode, 200);
    assert.equal(single.headers?.['set-cookie'], 'only=1; Path=/');
    const several = await invoke(fixture('alb-single'));
    assert.equal(several.statusCode, 500);
    assert.equal(JSON.parse(several.body).error.code, 'LATCH_ALB_MULTI_VALUE_HEADERS');
    assert.equal(several.headers?.['set-cookie'], undefined, 'cookies that set values never go without the others');
  });

  for (const [source, style] of [['rest', 'v1'], ['http-api', 'v2'], ['function-url', 'v2'], ['alb', 'alb']] as const) {
    it(`${source}: a base64 body arrives as its bytes; a binary answer leaves base64-encoded`, async () => {
      const bytes = randomBytes(300);
      const event = withBody(fixture(source), bytes, style);
      if (style === 'v2') event['rawPath'] = '/bytes';
      else event['path'] = '/bytes';
      const result = await invoke(event);
      assert.equal(result.statusCode, 200);
      assert.equal(result.isBase64Encoded, true);
      assert.deepEqual(Buffer.from(result.body, 'base64'), bytes);
    });
  }
});

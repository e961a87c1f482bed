/**
 * Test-only setup for the provider suites: a BFF on loopback built from LATCH_* variables, a dev
 * OpenID provider wired to it with a client of our choosing, scripted and silent servers for the
 * failure cases, and the password grant added to oidc-provider. (LATCH_PROVIDER=oauth2 runs against a real
 * django-oauth-toolkit: test/helpers/dot.ts.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { KoaContextWithOIDC } from 'oidc-provider';
// The dev provider first: it quiets oidc-provider's Node 20 warning before oidc-provider loads (dev/node-support.ts).
import { startDevProvider, type DevClient, type DevProvider, type DevProviderOptions, type DevUser } from '../../../dev/provider.ts';
import { errors as oidcErrors } from 'oidc-provider';
import { createBff, type Bff } from '../../../bff/app.ts';
import { loadConfig, type BffConfig } from '../../../bff/config.ts';
import type { HttpResult } from '../../helpers/http.ts';
import { freePort, listen, type Listening } from '../../helpers/net.ts';
import { captureLogs } from '../../helpers/logs.ts';

export const SITE = 'http://www.latch.test:8080';

export interface BffHandle {
  app: Bff;
  config: BffConfig;
  url: string;
  logs: string[];
  close(): Promise<void>;
}

/** A BFF on a port chosen beforehand (its /callback must be known to the server first). An `undefined` in `env` unsets a default. */
export async function startBff(port: number, env: Record<string, string | undefined>): Promise<BffHandle> {
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    LATCH_BASE_URL: url,
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOWED_ORIGINS: SITE,
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_HTTP_TIMEOUT_MS: '1500',
    ...env,
  });
  const { lines: logs, logger } = captureLogs();
  const app = createBff(config, { logger });
  const server = await listen(app.callback(), { port });
  return { app, config, url, logs, close: () => server.close() };
}

export interface OidcSetup {
  op: DevProvider;
  bff: BffHandle;
  bffUrl: string;
  clientId: string;
  clientSecret: string;
  user: DevUser;
  close(): Promise<void>;
}

export interface OidcSetupOptions {
  provider?: Partial<Omit<DevProviderOptions, 'clients'>>;
  client?: Partial<Omit<DevClient, 'client_id' | 'client_secret' | 'redirect_uris'>>;
  /** Register the password grant at the provider (and allow it for the client). */
  passwordGrant?: boolean;
  /** The LATCH_* variables, knowing the issuer. Client id and secret are filled in unless given. */
  env: (issuer: string) => Record<string, string>;
  /** Runs after the provider starts and before the BFF does. */
  prepare?: (op: DevProvider) => void | Promise<void>;
}

/** oidc-provider and a BFF configured by `env`, with one confidential client. */
export async function startOidcSetup(options: OidcSetupOptions): Promise<OidcSetup> {
  const port = await freePort();
  const bffUrl = `http://127.0.0.1:${port}`;
  const clientId = `latch-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const grants = ['authorization_code', 'refresh_token'];
  const op = await startDevProvider({
    ...options.provider,
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${bffUrl}/callback`],
      post_logout_redirect_uris: [`${SITE}/`],
      grant_types: grants,
      ...options.client,
    }],
  });
  let bff: BffHandle;
  try {
    if (options.passwordGrant) await registerPasswordGrant(op, clientId);
    await options.prepare?.(op);
    bff = await startBff(port, { LATCH_CLIENT_ID: clientId, LATCH_CLIENT_SECRET: clientSecret, ...options.env(op.issuer) });
  } catch (err) {
    await op.close();
    throw err;
  }
  return {
    op, bff, bffUrl, clientId, clientSecret, user: op.users[0]!,
    async close() {
      await bff.close();
      await op.close();
    },
  };
}

/**
 * The resource owner password grant, added to the real oidc-provider with registerGrantType
 * (it has none of its own). Checks the dev users' passwords; issues an access token, a refresh
 * token with offline_access, and an ID token with openid, through oidc-provider's own models.
 * The dev provider validates its clients at start, before a grant can be registered, so the
 * grant is then allowed on the (cached) client object itself.
 */
export async function registerPasswordGrant(op: DevProvider, clientId: string): Promise<void> {
  const { provider } = op;
  const oidcScopes = new Set(['openid', 'offline_access', 'profile', 'email']);
  provider.registerGrantType('password', async (ctx: KoaContextWithOIDC) => {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const user = op.users.find((u) => u.login.toLowerCase() === (params['username'] ?? '').toLowerCase());
    if (!user || !params['password'] || user.password !== params['password']) {
      throw new oidcErrors.InvalidGrant('invalid username or password');
    }
    const client = ctx.oidc.client!;
    const scope = (params['scope'] ?? '').split(' ').filter((s) => oidcScopes.has(s)).join(' ');
    const grant = new provider.Grant({ accountId: user.sub, clientId: client.clientId });
    if (scope) grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const at = new provider.AccessToken({ accountId: user.sub, client, grantId, gty: 'password', scope });
    const accessToken = await at.save();
    const scopes = new Set(scope.split(' '));
    let refreshToken: string | undefined;
    if (scopes.has('offline_access')) {
      const rt = new provider.RefreshToken({ accountId: user.sub, client, grantId, gty: 'password', scope, rotations: 0 });
      refreshToken = await rt.save();
    }
    let idToken: string | undefined;
    if (scopes.has('openid')) {
      const token = new provider.IdToken({ sub: user.sub, name: user.name, email: user.email, email_verified: user.email_verified }, { ctx });
      (token as unknown as { scope: string }).scope = scope;
      idToken = await token.issue({ use: 'idtoken' });
    }
    ctx.body = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: at.expiration,
      scope,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      ...(idToken ? { id_token: idToken } : {}),
    };
  }, ['username', 'password', 'scope']);
  const client = await provider.Client.find(clientId);
  if (!client) throw new Error(`registerPasswordGrant: no client ${clientId}`);
  (client.grantTypes as string[]).push('password');
}

/**
 * Records the URLs this process fetches (the BFF runs in it) until restore(): through Node's fetch, and
 * through node:http and node:https (oauth4webapi's requests go there, bff/oauth/http-fetch.ts).
 */
export function recordFetches(): { urls: string[]; restore(): void } {
  const original = globalThis.fetch;
  const urls: string[] = [];
  globalThis.fetch = (input, init) => {
    urls.push(input instanceof Request ? input.url : String(input));
    return original(input, init);
  };
  const requests = [http, https].map((module) => {
    const request = module.request;
    module.request = ((url: unknown, ...rest: unknown[]) => {
      if (url instanceof URL || typeof url === 'string') urls.push(String(url));
      return (request as (...args: unknown[]) => http.ClientRequest)(url, ...rest);
    }) as typeof module.request;
    return () => {
      module.request = request as typeof module.request;
    };
  });
  return {
    urls,
    restore() {
      globalThis.fetch = original;
      for (const restore of requests) restore();
    },
  };
}

export type Script = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

export interface ScriptedServer extends Listening {
  /** What the server does with each request; a script that never answers makes it hang. */
  script: Script;
  requests: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }>;
}

/** A loopback server whose answers the test writes: HTML, 500, a token response, or silence. */
export async function startScriptedServer(script: Script = answer(404, 'text/plain', 'not found')): Promise<ScriptedServer> {
  const state = { script };
  const requests: ScriptedServer['requests'] = [];
  const server = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body });
      void state.script(req, res, body);
    });
  });
  const scripted = Object.assign(server, { requests }) as ScriptedServer;
  Object.defineProperty(scripted, 'script', {
    get: () => state.script,
    set: (next: Script) => {
      state.script = next;
    },
  });
  return scripted;
}

export function answer(status: number, type: string, body: string): Script {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
}

export const HTML_PAGE = answer(200, 'text/html', '<!doctype html><title>Sign in</title><p>Welcome to our portal</p>');
export const SERVER_ERROR = answer(500, 'application/json', '{"error":"server_error"}');
export const SERVER_ERROR_HTML = answer(500, 'text/html', '<h1>Internal Server Error</h1>');
/** Accepts the request and never answers. */
export const SILENCE: Script = () => {};

/** The code of a JSON error answer, or of the BFF's HTML error page. */
/** A configuration fault names its fix where the operator looks: the message of an error-level log line. */
export function loggedFix(bff: BffHandle, pattern: RegExp): void {
  const lines = bff.logs.map((line) => JSON.parse(line) as { level: number; msg: string });
  assert.ok(lines.some((l) => l.level === 50 && pattern.test(l.msg)), `no error line matches ${pattern}:\n${lines.map((l) => `${l.level} ${l.msg}`).join('\n')}`);
}

export function errorCode(res: HttpResult): string | undefined {
  if (/json/.test(res.headers.get('content-type') ?? '')) return res.json<{ error?: { code?: string } }>().error?.code;
  return /data-code="([A-Z_]+)"/.exec(res.text)?.[1];
}

/** The session cookie set by an answer with a value (a cleared one does not count). */
export function sessionSet(res: HttpResult | undefined): string | undefined {
  return res?.setCookies.find((c) => /^latch=[^;]+/.test(c) && !/Max-Age=0/i.test(c));
}

export function assertNoSession(res: HttpResult | undefined, what: string): void {
  assert.equal(sessionSet(res), undefined, `${what}: no session cookie`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

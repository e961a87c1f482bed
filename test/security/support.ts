/**
 * The security suite's stack: a real oidc-provider, optionally the interceptor in front of it
 * (evil-as.ts), and one or more real BFFs on loopback, each with its own captured logs and audit
 * events. Unlike test/helpers/stack.ts it registers back-channel logout, lets several BFF apps share
 * one provider client (key rotation, other deployments), and exposes the cookie secret.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { AuditEvent } from '../../bff/audit.ts';
import { createBff, type Bff, type BffOptions } from '../../bff/app.ts';
import { loadConfig, type BffConfig } from '../../bff/config.ts';
import { REDACT_PATHS } from '../../bff/logger.ts';
import { startDevProvider, type DevProvider, type DevProviderOptions, type DevUser } from '../../dev/provider.ts';
import { HttpClient, signIn, type HttpResult } from '../helpers/http.ts';
import { freePort, listen, type Listening } from '../helpers/net.ts';
import { startInterceptor, type Interceptor, type TokenRewrite } from './evil-as.ts';

export const SITE = 'http://www.latch.test:8080';
export const OTHER_SITE = 'https://shop.latch.test';

export interface BffInstance {
  app: Bff;
  config: BffConfig;
  url: string;
  listening: Listening;
  logs: string[];
  audits: AuditEvent[];
  close(): Promise<void>;
}

export interface SecStack {
  provider: DevProvider;
  interceptor?: Interceptor;
  /** The first BFF. */
  bff: BffInstance;
  bffUrl: string;
  siteOrigin: string;
  clientId: string;
  clientSecret: string;
  cookieSecret: string;
  /** The environment the first BFF was configured with. */
  env: Record<string, string>;
  users: DevUser[];
  /** Another BFF for the same client, e.g. with other secrets; closed with the stack. */
  addBff(env?: Record<string, string>, options?: BffOptions): Promise<BffInstance>;
  /**
   * Replaces the first BFF with a new one on the same port (so the provider's redirect URI still
   * fits): nothing cached (metadata, keys), `env` over the stack's. `stack.bff` is the new one.
   */
  restartBff(env?: Record<string, string>): Promise<BffInstance>;
  close(): Promise<void>;
}

export interface SecStackOptions {
  env?: Record<string, string>;
  provider?: Partial<Omit<DevProviderOptions, 'clients'>>;
  /** Put the interceptor between the BFF and the provider's token, userinfo and JWKS endpoints. */
  interceptor?: boolean;
  /** Register /backchannel-logout with the provider (and enable the feature). */
  backchannel?: boolean;
  bff?: BffOptions;
}

export function demoUsers(): DevUser[] {
  const password = randomBytes(12).toString('base64url');
  return [
    { sub: 'user-dana', login: 'dana@latch.test', password, name: 'Dana Demo', email: 'dana@latch.test', email_verified: true },
    { sub: 'user-erin', login: 'erin@latch.test', password, name: 'Erin Example', email: 'erin@latch.test', email_verified: true },
    {
      // Many groups: the ID token and the session are several kilobytes, more than one cookie holds.
      sub: 'user-gus',
      login: 'gus@latch.test',
      password,
      name: 'Gus Groups',
      email: 'gus@latch.test',
      email_verified: true,
      extra: { groups: Array.from({ length: 70 }, (_, i) => `engineering-platform-group-${String(i).padStart(3, '0')}`) },
    },
    {
      // So many groups that even three cookies cannot hold the session.
      sub: 'user-hal',
      login: 'hal@latch.test',
      password,
      name: 'Hal Huge',
      email: 'hal@latch.test',
      email_verified: true,
      extra: { groups_all: Array.from({ length: 400 }, (_, i) => `enterprise-directory-security-group-${String(i).padStart(4, '0')}`) },
    },
  ];
}

export async function startSecStack(options: SecStackOptions = {}): Promise<SecStack> {
  const bffPort = await freePort();
  const bffUrl = `http://127.0.0.1:${bffPort}`;
  const clientId = `latch-sec-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const cookieSecret = randomBytes(32).toString('base64url');
  const users = options.provider?.users ?? demoUsers();
  const provider = await startDevProvider({
    ...options.provider,
    users,
    ...(options.backchannel ? { backchannelLogout: true } : {}),
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${bffUrl}/callback`],
      post_logout_redirect_uris: [`${SITE}/`],
      grant_types: ['authorization_code', 'refresh_token'],
      ...(options.backchannel ? { backchannel_logout_uri: `${bffUrl}/backchannel-logout` } : {}),
    }],
  });
  const interceptor = options.interceptor ? await startInterceptor(provider.issuer) : undefined;
  const env: Record<string, string> = {
    LATCH_ISSUER: provider.issuer,
    ...(interceptor ? { LATCH_DISCOVERY_URL: interceptor.discoveryUrl } : {}),
    LATCH_CLIENT_ID: clientId,
    LATCH_CLIENT_SECRET: clientSecret,
    LATCH_BASE_URL: bffUrl,
    LATCH_COOKIE_SECRET: cookieSecret,
    LATCH_ALLOWED_ORIGINS: `${SITE},${OTHER_SITE}`,
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_HTTP_TIMEOUT_MS: '3000',
    // The suite signs in many times from one IP; the rate limit has its own tests.
    LATCH_RATE_LIMIT: '0',
    ...options.env,
  };
  const extra: BffInstance[] = [];
  const start = async (overrides: Record<string, string>, bffOptions: BffOptions, port?: number): Promise<BffInstance> => {
    const config = loadConfig({ ...env, ...overrides });
    const logs: string[] = [];
    const audits: AuditEvent[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    const app = createBff(config, { logger, audit: (e) => audits.push(e), ...bffOptions });
    const listening = await listen(app.callback(), port === undefined ? {} : { port });
    return {
      app, config, url: listening.url, listening, logs, audits,
      async close() {
        await listening.close();
        // The live sessions' bus holds a connection of its own once a stream subscribed (bff/session/bus.ts).
        await app.latch.live?.close();
        await app.latch.sessions.store.close();
      },
    };
  };
  const stack: SecStack = {
    provider, bff: await start({}, options.bff ?? {}, bffPort), bffUrl, siteOrigin: SITE, clientId, clientSecret, cookieSecret, env, users,
    ...(interceptor ? { interceptor } : {}),
    async addBff(overrides = {}, bffOptions = {}) {
      const instance = await start(overrides, bffOptions);
      extra.push(instance);
      return instance;
    },
    async restartBff(overrides = {}) {
      await stack.bff.close();
      // Clients' pooled keep-alive sockets to the old server must see it close before the next request.
      await sleep(50);
      stack.bff = await start(overrides, options.bff ?? {}, bffPort);
      return stack.bff;
    },
    async close() {
      for (const instance of extra) await instance.close();
      await stack.bff.close();
      await interceptor?.close();
      await provider.close();
    },
  };
  return stack;
}

// ---------------------------------------------------------------------------------------------
// Sign-in and assertions

export const loginUrl = (bffUrl: string, returnTo = `${SITE}/`, extra = '') =>
  `${bffUrl}/login?returnTo=${encodeURIComponent(returnTo)}${extra}`;

/** A full sign-in with the login form, in a fresh client (no provider session yet). */
export async function signedIn(stack: SecStack, userIndex = 0, bffUrl = stack.bffUrl): Promise<{ client: HttpClient; cookie: string; callback: HttpResult }> {
  const client = new HttpClient();
  const user = stack.users[userIndex]!;
  const { callbackResult } = await signIn(client, loginUrl(bffUrl), { login: user.login, password: user.password });
  assert.ok(callbackResult, 'the callback was reached');
  assert.equal(callbackResult.status, 302, `callback: ${callbackResult.status} ${callbackResult.text.slice(0, 300)}`);
  return { client, cookie: sessionCookieHeader(callbackResult.setCookies), callback: callbackResult };
}

/**
 * Signs in again with a client that already has a provider session: /login → provider → /callback
 * without a form. Returns the callback's answer (not followed further).
 */
export async function quickCallback(client: HttpClient, bffUrl: string, returnTo = `${SITE}/`, extra = ''): Promise<HttpResult> {
  const url = await pendingCallback(client, bffUrl, returnTo, extra);
  return client.request(url.href);
}

/**
 * A sign-in (as quickCallback) whose token answers the interceptor rewrites as `rewrite` says; the
 * rewrite is dropped afterwards, whatever happens.
 */
export async function callbackWithTokens(stack: SecStack, client: HttpClient, rewrite: TokenRewrite | undefined): Promise<HttpResult> {
  stack.interceptor!.onToken = rewrite;
  try {
    return await quickCallback(client, stack.bffUrl);
  } finally {
    stack.interceptor!.onToken = undefined;
  }
}

/** The authorization response the provider sends for a fresh /login, without requesting /callback. */
export async function pendingCallback(client: HttpClient, bffUrl: string, returnTo = `${SITE}/`, extra = ''): Promise<URL> {
  const bffOrigin = new URL(bffUrl).origin;
  let result = await client.request(loginUrl(bffUrl, returnTo, extra));
  for (let hops = 0; hops < 10 && result.location; hops++) {
    const next = new URL(result.location);
    if (next.origin === bffOrigin && next.pathname === '/callback') return next;
    result = await client.request(next.href);
  }
  throw new Error(`no callback redirect (ended at ${result.status} ${result.url}: ${result.text.slice(0, 200)})`);
}

/** `name=value; name.1=value` of every session cookie set (for a Cookie header). */
export function sessionCookieHeader(setCookies: string[]): string {
  return setCookies
    .map((c) => c.split(';')[0]!)
    .filter((pair) => /^latch(\.\d+)?=/.test(pair) && !/^latch(\.\d+)?=$/.test(pair))
    .join('; ');
}

/** Session cookies that set a value (not clearing ones). */
export function sessionCookiesSet(setCookies: string[]): string[] {
  return setCookies.filter((c) => /^(__Host-)?latch(\.\d+)?=[^;]+/.test(c));
}

export function assertNoSessionSet(res: HttpResult | { setCookies: string[] }, label = ''): void {
  assert.deepEqual(sessionCookiesSet(res.setCookies), [], `${label}: no session cookie may be set`);
}

export function errorCode(res: HttpResult): string | undefined {
  try {
    return res.json<{ error?: { code?: string } }>().error?.code;
  } catch {
    return /data-code="([A-Z_]+)"/.exec(res.text)?.[1];
  }
}

/** The answer is the expected refusal: status, code, nothing sealed, never a 500. */
export function assertRefused(res: HttpResult, status: number, code: string | undefined, label = ''): void {
  assert.notEqual(res.status, 500, `${label}: 500 ${res.text.slice(0, 200)}`);
  assert.equal(res.status, status, `${label}: status ${res.status} ${res.text.slice(0, 300)}`);
  if (code) assert.equal(errorCode(res), code, `${label}: code`);
  assertNoSessionSet(res, label);
  assert.doesNotMatch(res.text, /at .*\.ts:\d+/, `${label}: no stack trace`);
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new HttpClient().request(url, { headers });
}

export async function post(url: string, headers: Record<string, string> = {}, body?: string): Promise<HttpResult> {
  return new HttpClient().request(url, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

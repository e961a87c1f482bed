import { loadConfig } from '../bff/config.ts';
import type { LatchUser } from '../bff/contract.ts';
import { newTransactionSecrets } from '../bff/oauth/secrets.ts';
import { createProvider } from '../bff/providers/index.ts';
import type { LoginTransaction } from '../bff/providers/provider.ts';
import { siteCookies } from '../bff/session/session-cookies.ts';
import { sessionsFromConfig, storeFromConfig } from '../bff/session/setup.ts';
import { findUser, type TestProvider } from './provider.ts';

export interface MintSessionOptions {
  /**
   * The test provider the BFF signs in with (its LATCH_ISSUER); or its JSON, as another process
   * (Playwright's global setup) hands it on: only `issuer` and `users` are read.
   */
  provider: Pick<TestProvider, 'issuer' | 'users'>;
  /** The user's login or sub. */
  user: string;
  /**
   * The BFF's environment: the same LATCH_* variables it runs with (issuer, client, LATCH_BASE_URL,
   * LATCH_COOKIE_SECRET, LATCH_ALLOWED_ORIGINS...). It is validated as the BFF validates it.
   */
  env: Readonly<Record<string, string | undefined>>;
}

/** A cookie as Playwright's `browserContext.addCookies()` takes it. */
export interface BrowserCookie {
  name: string;
  value: string;
  /** The BFF's origin with `/`: the cookie's host (host-only) and path. */
  url: string;
  httpOnly: true;
  secure: boolean;
  sameSite: 'Lax';
  /** Unix time, seconds. */
  expires: number;
}

export interface MintedSession {
  /** For a request's Cookie header: `name=value` pairs joined by `; `. */
  cookieHeader: string;
  /** For Playwright: `await context.addCookies(session.cookies)`. */
  cookies: BrowserCookie[];
  /** The Set-Cookie values the BFF's /callback would have sent. */
  setCookie: string[];
  /** The signed-in user's claims, as `GET /me` answers them. */
  user: LatchUser;
  /** When the session ends, epoch ms (its idle end, as `GET /me` says). */
  expiresAt: number;
}

/**
 * A signed-in session for `user`, without a browser: the BFF's own code signs in at the test
 * provider (PKCE, state, nonce, the provider's real sign-in form submitted over HTTP), exchanges the
 * code, verifies the ID token and fetches userinfo, and seals the session with LATCH_COOKIE_SECRET,
 * exactly as GET /callback does. The tokens are real, so /me, refresh, logout and the /api proxy
 * work with the cookie like with one a browser got.
 *
 * The cookie is the first site's (LATCH_BASE_URL). With LATCH_SESSION_STORE=redis the session
 * record goes to LATCH_REDIS_URL, which the BFF under test must share; LATCH_SESSION_STORE=memory
 * keeps sessions inside the BFF's process, where no other process can put one.
 */
export async function mintSession(options: MintSessionOptions): Promise<MintedSession> {
  const config = loadConfig(options.env);
  if (config.issuer !== options.provider.issuer) {
    throw new Error(`latch/testing: the BFF's LATCH_ISSUER (${config.issuer}) is not the test provider's issuer (${options.provider.issuer})`);
  }
  if (config.sessionStore === 'memory') {
    throw new Error('latch/testing: LATCH_SESSION_STORE=memory keeps sessions inside the BFF process; mint sessions for cookie (the default) or redis sessions');
  }
  const user = findUser(options.provider.users, options.user);
  const provider = createProvider(config);
  const tx: LoginTransaction = { ...newTransactionSecrets(), returnTo: config.baseUrl.href, mode: 'redirect', createdAt: Date.now() };
  const authorization = await provider.authorizationUrl(tx, {});
  const callback = await signInAtTestProvider(authorization, user, config.redirectUri);
  const result = await provider.handleCallback(callback, tx);

  const store = storeFromConfig(config);
  try {
    const sessions = sessionsFromConfig(config, store);
    const session = sessions.create(result);
    const now = Date.now();
    const setCookie = await siteCookies(sessions, config.baseUrl).write(session, { now });
    const cookies = setCookie.map((header) => browserCookie(header, config.baseUrl, now));
    return {
      cookieHeader: cookies.map((c) => `${c.name}=${c.value}`).join('; '),
      cookies,
      setCookie,
      user: session.user,
      expiresAt: sessions.expiresAt(sessions.touch(session, now)),
    };
  } finally {
    await store.close();
  }
}

function browserCookie(header: string, baseUrl: URL, now: number): BrowserCookie {
  const [pair, ...attributes] = header.split(';').map((part) => part.trim());
  const eq = pair!.indexOf('=');
  const maxAge = attributes.find((a) => /^max-age=/i.test(a));
  return {
    name: pair!.slice(0, eq),
    value: pair!.slice(eq + 1),
    url: `${baseUrl.origin}/`,
    httpOnly: true,
    secure: attributes.some((a) => /^secure$/i.test(a)),
    sameSite: 'Lax',
    expires: Math.floor(now / 1000) + Number(maxAge?.slice(maxAge.indexOf('=') + 1) ?? 0),
  };
}

/**
 * The browser's part of a sign-in at the test provider, over HTTP: follows its redirects with its
 * cookies, posts the user's credentials to its sign-in form, and answers the URL it finally sends
 * the browser to (the BFF's /callback with code and state), without requesting that URL.
 */
async function signInAtTestProvider(authorization: URL, user: { login: string; password: string }, redirectUri: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorization;
  let form: string | undefined;
  for (let hops = 0; hops < 20; hops++) {
    const headers: Record<string, string> = { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') };
    if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: form === undefined ? 'GET' : 'POST', headers, redirect: 'manual', ...(form !== undefined ? { body: form } : {}) });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = cookie.split(';').map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf('='));
      if (attributes.some((a) => /^max-age=0$/i.test(a) || /^expires=.*1970/i.test(a))) jar.delete(name);
      else jar.set(name, pair.slice(pair.indexOf('=') + 1));
    }
    const location = res.headers.get('location');
    if (location !== null && res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const next = new URL(location, url);
      if (`${next.origin}${next.pathname}` === redirectUri) return next;
      url = next;
      form = undefined;
      continue;
    }
    const page = await res.text();
    const action = /\saction="(\/interaction\/[\w-]+\/login)"/.exec(page)?.[1];
    if (action && res.status === 200 && form === undefined) {
      url = new URL(action, url);
      form = new URLSearchParams({ login: user.login, password: user.password }).toString();
      continue;
    }
    if (action) throw new Error(`latch/testing: the test provider refused the password of "${user.login}"`);
    throw new Error(`latch/testing: the sign-in stopped at the test provider (${res.status} ${url.pathname}): ${textOf(page)}. Is the BFF's LATCH_BASE_URL one of the provider's bffUrl values?`);
  }
  throw new Error('latch/testing: the sign-in at the test provider redirected too often');
}

/** An error page's words, short. */
function textOf(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}

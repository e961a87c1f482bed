/**
 * The soak's mixed load: simulated users, each a browser of its own (bench/lib/soak-client.ts), each
 * going round a session's life again and again until told to stop:
 *
 *   1. sign in: the real authorization code flow, `/login` → the dev provider's login form → `/callback`
 *      (test/helpers/http.ts signIn, as the integration tests do);
 *   2. use the session for a while (5–40 s): `/me`, the proxy (`/api/demo/…` with `Latch-CSRF` and an
 *      allowed Origin, to the demo API, which checks the access token), and bad input now and then.
 *      The provider's access tokens live 12 s, so the BFF refreshes every few seconds of a session's life;
 *   3. end it one of three ways: `POST /logout` then the provider's sign-out page (which makes the
 *      provider send a back-channel logout too), sign-out at the provider alone (the back-channel
 *      logout token is what ends the BFF session), or walk away (most users never sign out).
 *
 * Every user's requests are paced by one shared clock: a steady rate, the same for the whole run, so
 * that memory figures taken minutes apart compare like with like. Each answer is checked against what
 * that request must get (a live session's `/me` is 200, a tampered cookie 401…); anything else, any
 * 5xx and any walk that breaks is counted as unexpected.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../bff/routes/backchannel.ts';
import type { DevUser } from '../../dev/provider.ts';
import { completeProviderLogout, followLogoutHandle, signIn } from '../../test/helpers/http.ts';
import { closePool, newPool, raw, SoakClient, Tally, type ClientContext } from './soak-client.ts';

export interface MixTargets {
  bffUrl: string;
  bffPort: number;
  issuer: string;
  clientId: string;
  /** The microsite's origin, allowed to call the BFF. */
  site: string;
  /** One per simulated user. */
  users: DevUser[];
  /** Cookie headers of valid sessions that are not any simulated user's (the raw-socket cases use them). */
  spareCookies: readonly string[];
}

export interface MixOptions {
  /** Simulated users at once (each its own session and client address). */
  users: number;
  /** Steps per second, all users together (a step: one request to the BFF, or one sign-in or sign-out walk). */
  rate: number;
  /** How long a session is used before it ends: uniform between these, seconds. */
  sessionSeconds: readonly [number, number];
}

/** A steady rate shared by every user: each step waits for its slot; a late step never makes a burst. */
class Pacer {
  readonly #intervalMs: number;
  #next = 0;
  constructor(perSecond: number) {
    this.#intervalMs = 1000 / perSecond;
  }
  async slot(): Promise<void> {
    const now = performance.now();
    const at = Math.max(this.#next, now);
    this.#next = at + this.#intervalMs;
    if (at > now) await sleep(at - now);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Chooses by weight: `[[weight, value], …]`. */
function weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T {
  let r = Math.random() * choices.reduce((a, [w]) => a + w, 0);
  for (const [w, value] of choices) if ((r -= w) < 0) return value;
  return choices[choices.length - 1]![1];
}

const API = '/api/demo';

/** One running load: `stop()` ends it (every user finishes the step it is in) and closes its connections. */
export interface RunningMix {
  stop(): Promise<void>;
}

export async function startMix(targets: MixTargets, options: MixOptions, tally: Tally): Promise<RunningMix> {
  const pool = await newPool();
  const ctx: ClientContext = { bffUrl: targets.bffUrl, pool, tally, timeoutMs: 30_000 };
  const pacer = new Pacer(options.rate);
  const forger = await generateKeyPair('ES256');
  let stopping = false;
  const users = Array.from({ length: options.users }, (_, i) =>
    userLoop({ targets, options, ctx, pacer, forger: forger.privateKey, index: i, stopped: () => stopping }).catch((err: unknown) => {
      tally.wrong('user', 'error', `user ${i} stopped: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }),
  );
  return {
    async stop() {
      stopping = true;
      await Promise.all(users);
      await closePool(pool);
    },
  };
}

interface UserState {
  targets: MixTargets;
  options: MixOptions;
  ctx: ClientContext;
  pacer: Pacer;
  forger: CryptoKey;
  index: number;
  stopped(): boolean;
}

async function userLoop(u: UserState): Promise<void> {
  const user = u.targets.users[u.index % u.targets.users.length]!;
  // Users start spread over the first two seconds, not all at once.
  await sleep(Math.random() * 2000);
  for (let life = 0; !u.stopped(); life++) {
    const client = new SoakClient(u.ctx, `10.${(u.index % 250) + 1}.${(life >> 8) & 255}.${life & 255}`);
    await u.pacer.slot();
    if (u.stopped()) return;
    client.kind = 'sign-in';
    try {
      const { finalUrl } = await signIn(client, `${u.targets.bffUrl}/login?returnTo=${encodeURIComponent(`${u.targets.site}/`)}`, user);
      if (finalUrl.origin !== u.targets.site) throw new Error(`the sign-in ended at ${finalUrl.href}`);
    } catch (err) {
      u.ctx.tally.wrong('sign-in', 'error', String(err));
      await sleep(500);
      continue;
    }
    u.ctx.tally.done('signed-in');
    const endAt = performance.now() + 1000 * (u.options.sessionSeconds[0] + Math.random() * (u.options.sessionSeconds[1] - u.options.sessionSeconds[0]));
    while (!u.stopped() && performance.now() < endAt) {
      await u.pacer.slot();
      if (u.stopped()) break;
      await weighted<() => Promise<unknown>>([
        [40, () => me(u, client)],
        [30, () => proxyGet(u, client)],
        [4, () => client.bare('proxy-no-session', `${API}/hello`, { method: 'POST', headers: { ...apiHeaders(u), 'content-type': 'application/json' }, body: '{"a":1}' }, [401])],
        [4, () => apiMissing(u, client)],
        [14, () => badInput(u, client)],
      ])();
    }
    if (u.stopped()) return;
    await u.pacer.slot();
    await weighted<() => Promise<unknown>>([
      [35, () => logout(u, client)],
      [35, () => providerLogout(u, client)],
      [30, async () => u.ctx.tally.done('walked-away')],
    ])();
  }
}

function apiHeaders(u: UserState): Record<string, string> {
  return { origin: u.targets.site, 'latch-csrf': '1', accept: 'application/json' };
}

async function me(u: UserState, client: SoakClient): Promise<void> {
  client.kind = 'me';
  const res = await client.request(`${u.targets.bffUrl}/me`, { headers: { origin: u.targets.site, accept: 'application/json' } }).catch(() => null);
  if (res && res.status !== 200) u.ctx.tally.wrong('me', res.status, `a live session's /me: ${res.text.slice(0, 200)}`);
}

async function proxyGet(u: UserState, client: SoakClient): Promise<void> {
  client.kind = 'proxy';
  const res = await client.request(`${u.targets.bffUrl}${API}/hello?n=${Math.floor(Math.random() * 1000)}`, { headers: apiHeaders(u) }).catch(() => null);
  if (res && res.status !== 200) u.ctx.tally.wrong('proxy', res.status, `GET ${API}/hello: ${res.text.slice(0, 200)}`);
}

/** A path or method the demo API has not: its own 404 (or 405), passed through. */
async function apiMissing(u: UserState, client: SoakClient): Promise<void> {
  const post = Math.random() < 0.5;
  client.kind = post ? 'proxy-post-json' : 'proxy-404';
  const res = await client
    .request(`${u.targets.bffUrl}${API}/${post ? 'hello' : `no/such/${randomUUID()}`}`, {
      method: post ? 'POST' : 'GET',
      headers: { ...apiHeaders(u), ...(post ? { 'content-type': 'application/json' } : {}) },
      ...(post ? { body: JSON.stringify({ item: randomUUID(), qty: 1 }) } : {}),
    })
    .catch(() => null);
  if (res && res.status !== 404 && res.status !== 405) u.ctx.tally.wrong(client.kind, res.status, res.text.slice(0, 200));
}

/** A session cookie with one character of its seal changed. */
function tamper(cookie: string): string {
  const eq = cookie.indexOf('=');
  const i = eq + 1 + Math.floor((cookie.length - eq - 1) / 2);
  const c = cookie[i] === 'A' ? 'B' : 'A';
  return cookie.slice(0, i) + c + cookie.slice(i + 1);
}

async function forgedLogoutToken(u: UserState): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sid: randomUUID(), jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'logout+jwt', kid: 'soak-forged' })
    .setIssuer(u.targets.issuer)
    .setAudience(u.targets.clientId)
    .setSubject('soak-victim')
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .sign(u.forger);
}

/** Bad input, one case at a time: each must get its coded 4xx (or a closed connection), and nothing may break. */
async function badInput(u: UserState, client: SoakClient): Promise<void> {
  const jar = await client.cookies();
  const sessionCookie = jar.split('; ').find((c) => c.startsWith('__Host-latch') || c.startsWith('latch')) ?? jar;
  const base = { origin: u.targets.site, accept: 'application/json' };
  const port = u.targets.bffPort;
  const spare = pick(u.targets.spareCookies);
  const rawHead = (lines: string[]) => `${lines.join('\r\n')}\r\nHost: 127.0.0.1:${port}\r\nX-Forwarded-For: ${client.address}\r\n\r\n`;
  const rawAnswer = async (kind: string, bytes: string, expected: readonly (number | 'closed')[]) => {
    const got = await raw(port, bytes);
    if (typeof got === 'number') u.ctx.tally.answer(kind, got, expected.filter((e): e is number => typeof e === 'number'), `raw ${kind}`);
    else if (expected.includes('closed')) u.ctx.tally.unanswered(kind);
    else u.ctx.tally.answer(kind, 'error', undefined, `raw ${kind}: ${got}`);
  };
  const cases: Array<() => Promise<unknown>> = [
    () => client.bare('tampered-cookie', '/me', { headers: { ...base, cookie: tamper(sessionCookie) } }, [401]),
    () => client.bare('forged-callback', `/callback?code=${randomBytes(16).toString('base64url')}&state=${randomBytes(16).toString('base64url')}&iss=${encodeURIComponent(u.targets.issuer)}`, { headers: { cookie: jar } }, [400]),
    () => client.bare('forged-callback', '/callback?error=access_denied', { headers: {} }, [400]),
    () => client.bare('oversized-headers', '/me', { headers: { ...base, cookie: jar, 'x-pad': 'a'.repeat(20 * 1024) } }, [431]),
    // Over Node's own ceiling too (twice LATCH_MAX_HEADER_BYTES): Node's bare 431, then it closes.
    () => rawAnswer('oversized-headers-node', rawHead(['GET /me HTTP/1.1', `X-Pad: ${'b'.repeat(40 * 1024)}`]), [431, 'closed']),
    () => client.bare('unknown-path', `/no/such/${randomUUID()}`, { headers: base }, [404]),
    () => client.bare('unknown-path', '/%E0%A4%A', { headers: base }, [400, 404]),
    () => client.bare('path-traversal', `${API}/..%2f..%2fadmin`, { headers: { ...apiHeaders(u), cookie: jar } }, [400, 404]),
    () => client.bare('no-csrf', '/logout', { method: 'POST', headers: { ...base, cookie: jar } }, [403]),
    () => client.bare('no-csrf', `${API}/hello`, { headers: { ...base, cookie: jar } }, [403]),
    () => client.bare('wrong-origin', `${API}/hello`, { headers: { ...apiHeaders(u), origin: 'https://evil.example', cookie: jar } }, [403]),
    () => client.bare('bad-body', '/backchannel-logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'logout_token=not.a.jwt' }, [400]),
    () => client.bare('bad-body', '/backchannel-logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"logout_token": ' }, [400]),
    async () => client.bare('forged-logout-token', '/backchannel-logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `logout_token=${await forgedLogoutToken(u)}` }, [400]),
    () => client.bare('bad-body', '/backchannel-logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `logout_token=${'a'.repeat(17 * 1024)}` }, [413]),
    // A body on GET is refused before anything goes upstream (request smuggling), whatever its framing.
    () => rawAnswer('bad-framing', rawHead([`GET ${API}/hello HTTP/1.1`, `Cookie: ${spare}`, `Origin: ${u.targets.site}`, 'Latch-CSRF: 1', 'Content-Length: 5']) + 'hello', [400]),
    // Content-Length and Transfer-Encoding together: Node refuses it before the app.
    () => rawAnswer('bad-framing', rawHead([`POST ${API}/hello HTTP/1.1`, 'Content-Length: 5', 'Transfer-Encoding: chunked']) + '0\r\n\r\n', [400, 'closed']),
    () => rawAnswer('bad-framing', 'HELLO WORLD\r\n\r\n', [400, 'closed']),
    // A body much larger than allowed, announced: refused at once.
    () => rawAnswer('bad-body', rawHead([`POST ${API}/hello HTTP/1.1`, `Cookie: ${spare}`, `Origin: ${u.targets.site}`, 'Latch-CSRF: 1', 'Content-Type: application/json', `Content-Length: ${8 * 1024 * 1024}`]), [413, 'closed']),
    // A body cut short: the client announces 1,000 bytes, sends 100 and leaves.
    async () => {
      await raw(port, rawHead([`POST ${API}/hello HTTP/1.1`, `Cookie: ${spare}`, `Origin: ${u.targets.site}`, 'Latch-CSRF: 1', 'Content-Type: application/json', 'Content-Length: 1000']) + '{'.padEnd(100, ' '), { leaveAfterMs: 20 });
      u.ctx.tally.unanswered('body-cut-short');
    },
    // A client that leaves as soon as it has asked, while the BFF calls the API for it.
    async () => {
      await raw(port, rawHead([`GET ${API}/hello HTTP/1.1`, `Cookie: ${spare}`, `Origin: ${u.targets.site}`, 'Latch-CSRF: 1']), { leaveAfterMs: 1 });
      u.ctx.tally.unanswered('client-gone');
    },
    // Half a request head, then silence, then gone.
    async () => {
      await raw(port, `GET /me HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${spare.slice(0, 40)}`, { leaveAfterMs: 50 });
      u.ctx.tally.unanswered('half-head');
    },
  ];
  await pick(cases)();
}

/** `POST /logout`, then the provider's sign-out page (so the provider sends a back-channel logout too). */
async function logout(u: UserState, client: SoakClient): Promise<void> {
  const before = await client.cookies();
  const everywhere = Math.random() < 0.1;
  client.kind = everywhere ? 'logout-everywhere' : 'logout';
  const res = await client
    .request(`${u.targets.bffUrl}/logout?returnTo=${encodeURIComponent(`${u.targets.site}/`)}${everywhere ? '&everywhere=1' : ''}`, { method: 'POST', headers: apiHeaders(u) })
    .catch(() => null);
  if (!res) return;
  if (res.status !== 200) return u.ctx.tally.wrong(client.kind, res.status, res.text.slice(0, 200));
  // The copy of the cookie taken before the logout must be refused now.
  await client.bare('after-logout', '/me', { headers: { origin: u.targets.site, cookie: before } }, [401]);
  const { logoutUrl } = res.json<{ logoutUrl: string | null }>();
  if (!logoutUrl) return u.ctx.tally.wrong(client.kind, res.status, 'no logoutUrl');
  client.kind = 'logout-end';
  try {
    const providerUrl = await followLogoutHandle(client, logoutUrl);
    client.kind = 'logout-end';
    await completeProviderLogout(client, providerUrl.href, { stopAt: (url) => url.origin === u.targets.site });
  } catch (err) {
    u.ctx.tally.wrong('logout-end', 'error', String(err));
  }
  // A user signed out everywhere has every session made until now refused, give or take the second
  // of clock skew the deny-list allows between instances: a real user does not sign in again within it.
  if (everywhere) await sleep(1200);
}

/** Sign-out at the provider only: its back-channel logout token must end the BFF session. */
async function providerLogout(u: UserState, client: SoakClient): Promise<void> {
  const cookie = await client.cookies();
  client.kind = 'provider-sign-out';
  try {
    await completeProviderLogout(client, `${u.targets.issuer}/session/end`, { stopAt: (url) => url.origin === u.targets.site });
  } catch (err) {
    return u.ctx.tally.wrong('provider-sign-out', 'error', String(err));
  }
  u.ctx.tally.done('provider-sign-out');
  // oidc-provider sends the logout token while it answers the confirmation; allow it a few seconds.
  const deadline = performance.now() + 5000;
  for (;;) {
    const status = await client.bare('after-backchannel', '/me', { headers: { origin: u.targets.site, cookie } }, [200, 401]);
    if (status === 401) return;
    if (status === 'error' || performance.now() > deadline) {
      return u.ctx.tally.wrong('after-backchannel', status, 'the BFF session outlived the provider sign-out (no back-channel logout)');
    }
    await sleep(100);
  }
}

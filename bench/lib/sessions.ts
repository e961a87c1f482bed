/**
 * Session cookies for the load runs, made the way each server makes its own:
 *
 * - iron-session's with its own `sealData`, koa-session's with the `encode` hook that server is given
 *   (bench/servers/koa-session-codec.ts) and koa's own cookie signature;
 * - the BFF's with the BFF's own session layer (bff/session: Sessions and the first site's
 *   SessionCookies), built from the same configuration (so the same secret, cookie name and lifetimes)
 *   as the BFF under test;
 * - express-openid-connect's with its own cookie-store encoding (lib/crypto.js `encryptSync`, the
 *   function its appSession middleware calls to write the cookie: a dir/A256GCM JWE under a key
 *   HKDF-derived from the secret, `iat`/`uat`/`exp` in the protected header).
 *
 * Each starts from a real session made by signing in once at the dev provider, so both carry the same
 * realistic token set (a JWT access token, an ID token, a refresh token).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { sealData } from 'iron-session';
import { compactDecrypt } from 'jose';
import { loadConfig } from '../../bff/config.ts';
import { siteCookies, type SessionCookies } from '../../bff/session/session-cookies.ts';
import { newSessionId, type Session } from '../../bff/session/session.ts';
import { sessionsFromConfig } from '../../bff/session/setup.ts';
import { MemoryStore } from '../../bff/session/stores/memory.ts';
import { KOA_SESSION_COOKIE, KOA_SESSION_MAX_AGE_MS, koaSessionCodec } from '../servers/koa-session-codec.ts';

/** The first site's session cookies as the BFF builds them from this environment, with a store of their own. */
export function bffSessions(env: Record<string, string>): SessionCookies {
  const config = loadConfig(env);
  return siteCookies(sessionsFromConfig(config, new MemoryStore()), config.baseUrl);
}

/** Set-Cookie values as the Cookie header a browser sends back (cleared cookies left out). */
export function cookieHeader(setCookies: readonly string[]): string {
  return setCookies.map((c) => c.split(';')[0]!).filter((pair) => !pair.endsWith('=')).join('; ');
}

/** One sealed cookie for `session`, with a far-future access token unless `patch` says otherwise. */
export async function sealOne(sessions: SessionCookies, session: Session, patch: Partial<Session> = {}): Promise<string> {
  return cookieHeader(await sessions.write({ ...session, atExp: Date.now() + 24 * 3600_000, ...patch }));
}

/**
 * `n` distinct sessions (each its own sid, user id and access token, the rest as in `template`), as the
 * BFF's session object: the same claims and tokens every contender's cookie holds.
 */
export function distinctSessions(template: Session, n: number, now = Date.now()): Session[] {
  return Array.from({ length: n }, (_, i) => ({
    ...template,
    sid: newSessionId(),
    user: { ...template.user, sub: `${template.user.sub}-${i}` },
    at: distinctToken(template.at, i),
    atExp: now + 24 * 3600_000,
    iat: now,
    exp: template.exp,
  }));
}

/** Seals `items` with `seal`, `batch` at a time (seals run on the thread pool: a few at once is faster). */
export async function inBatches<T, R>(items: readonly T[], seal: (item: T) => Promise<R>, batch = 250): Promise<R[]> {
  const out: R[] = [];
  for (let start = 0; start < items.length; start += batch) out.push(...(await Promise.all(items.slice(start, start + batch).map(seal))));
  return out;
}

/** `n` distinct sessions (distinctSessions()), sealed by the BFF's SessionCookies, as Cookie headers. */
export async function sealMany(sessions: SessionCookies, template: Session, n: number): Promise<string[]> {
  return inBatches(distinctSessions(template, n), (session) => sealOne(sessions, session, { atExp: session.atExp }));
}

/** A token of the same length and shape, different from every other one. */
function distinctToken(token: string, i: number): string {
  const tag = `${i.toString(36)}${randomBytes(6).toString('base64url')}`;
  return token.length > tag.length ? token.slice(0, token.length - tag.length) + tag : tag;
}

// ---------------------------------------------------------------------------------------------------------
// express-openid-connect

interface EocCrypto {
  encryption(secret: string): Buffer;
  encryptSync(payload: string, key: Buffer, headers: Record<string, number>): string;
}

const eocCrypto = (): EocCrypto => createRequire(import.meta.url)('express-openid-connect/lib/crypto.js') as EocCrypto;

/** The session data inside an appSession cookie value. */
export async function eocSessionData(cookieValue: string, secret: string): Promise<Record<string, unknown>> {
  const { plaintext } = await compactDecrypt(cookieValue, eocCrypto().encryption(secret));
  return JSON.parse(new TextDecoder().decode(plaintext)) as Record<string, unknown>;
}

/**
 * `n` distinct appSession cookies (Cookie headers) holding `data` plus a distinct `bench_sid`, with the
 * header express-openid-connect writes by default: iat = uat = now, exp = uat + rollingDuration (1 day).
 */
export function eocCookies(data: Record<string, unknown>, secret: string, n: number): string[] {
  const { encryption, encryptSync } = eocCrypto();
  const key = encryption(secret);
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, () =>
    `appSession=${encryptSync(JSON.stringify({ ...data, bench_sid: randomBytes(16).toString('base64url') }), key, { iat: now, uat: now, exp: now + 86_400 })}`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// iron-session and koa-session (bench/servers/iron-session.ts, koa-session.ts): the same session object
// the BFF seals, each cookie made with the library's own encoder.

/** An iron-session cookie (`latch=…`) for each session, sealed by iron-session's own `sealData`. */
export async function ironSessionCookies(sessionsToSeal: readonly Session[], password: string, ttlSeconds: number): Promise<string[]> {
  return inBatches(sessionsToSeal, async (session) => `latch=${await sealData(session, { password, ttl: ttlSeconds })}`);
}

/**
 * A koa-session cookie pair (`koa.sess=…; koa.sess.sig=…`) for each session: the value as its
 * `encode` hook writes it (with the `_expire`/`_maxAge` fields koa-session adds on save), signed by the
 * same Keygrip koa's `cookies` module signs with.
 */
export function koaSessionCookies(sessionsToSeal: readonly Session[], secret: string): string[] {
  const codec = koaSessionCodec(secret);
  const requireFromCookies = createRequire(createRequire(import.meta.url).resolve('cookies'));
  const Keygrip = requireFromCookies('keygrip') as new (keys: string[]) => { sign(data: string): string };
  const keys = new Keygrip([secret]);
  const expire = Date.now() + KOA_SESSION_MAX_AGE_MS;
  return sessionsToSeal.map((session) => {
    const value = codec.encode({ ...session, _expire: expire, _maxAge: KOA_SESSION_MAX_AGE_MS });
    return `${KOA_SESSION_COOKIE}=${value}; ${KOA_SESSION_COOKIE}.sig=${keys.sign(`${KOA_SESSION_COOKIE}=${value}`)}`;
  });
}

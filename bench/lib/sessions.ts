/**
 * Session cookies for the load runs, made the way each server makes its own:
 *
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
import { compactDecrypt } from 'jose';
import { loadConfig } from '../../bff/config.ts';
import { siteCookies, type SessionCookies } from '../../bff/session/session-cookies.ts';
import { newSessionId, type Session } from '../../bff/session/session.ts';
import { sessionsFromConfig } from '../../bff/session/setup.ts';
import { MemoryStore } from '../../bff/session/stores/memory.ts';

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
 * `n` distinct sessions (each its own sid, user id and access token, the rest as in `template`),
 * sealed by the BFF's session cookies, as Cookie headers.
 */
export async function sealMany(sessions: SessionCookies, template: Session, n: number, batch = 250): Promise<string[]> {
  const out: string[] = [];
  const now = Date.now();
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    out.push(
      ...(await Promise.all(
        Array.from({ length: size }, (_, k) => {
          const i = start + k;
          const session: Session = {
            ...template,
            sid: newSessionId(),
            user: { ...template.user, sub: `${template.user.sub}-${i}` },
            at: distinctToken(template.at, i),
            atExp: now + 24 * 3600_000,
            iat: now,
            exp: template.exp,
          };
          return sealOne(sessions, session, { atExp: session.atExp });
        }),
      )),
    );
  }
  return out;
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

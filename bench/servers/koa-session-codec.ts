/**
 * The sealing koa-session is given in the bench (bench/servers/koa-session.ts), and with which the bench
 * mints that server's cookies (bench/lib/sessions.ts). koa-session has none of its own: by default it
 * writes the session as base64 JSON, signed (its `.sig` cookie) but readable by whoever holds the
 * cookie, tokens included. Its `encode`/`decode` hooks are synchronous, so the honest equivalent of a
 * sealed cookie there is AES-256-GCM on node:crypto, under a key derived once from the secret (HKDF):
 * cheaper per cookie than iron, which derives two keys per seal (PBKDF2) and adds an HMAC.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export const KOA_SESSION_COOKIE = 'koa.sess';
/** koa-session's own default lifetime is a day; the BFF's sessions last 8 hours. */
export const KOA_SESSION_MAX_AGE_MS = 8 * 3600_000;

export interface Codec {
  encode(data: object): string;
  /** Throws a SyntaxError for anything that does not open: koa-session then starts an empty session (a 500 for any other error). */
  decode(text: string): Record<string, unknown>;
}

export function koaSessionCodec(secret: string): Codec {
  const key = Buffer.from(hkdfSync('sha256', secret, '', 'latch-bench/koa-session', 32));
  return {
    encode(data) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    decode(text) {
      const raw = Buffer.from(text, 'base64url');
      if (raw.length < 12 + 16) throw new SyntaxError('sealed cookie too short');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        const json = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
        return JSON.parse(json) as Record<string, unknown>;
      } catch {
        throw new SyntaxError('sealed cookie does not open');
      }
    },
  };
}

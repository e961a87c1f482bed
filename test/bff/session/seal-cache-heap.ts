/**
 * Heap figures for the cache of opened seals (bff/session/sealer.ts), run by test/bff/session/sealer.test.ts
 * in a child process with --expose-gc (so that `gc()` gives a settled heap before and after):
 *
 *   node --expose-gc --import tsx test/bff/session/seal-cache-heap.ts <same|variants|distinct> [reads]
 *
 * Each read goes the way a request's does: a Cookie header of its own (the session cookie among
 * padding cookies, about 15 KB in all, as an attacker can send under the 16 KB limit), through
 * SessionCookies.read(), which parses it and opens the seal through the cache (Sessions.open).
 * - same: every read carries the same session cookie;
 * - variants: the same seal with `~2x<i>` after it (iron-session's version field, outside the MAC);
 * - distinct: a different valid session in every read (what the cache is for).
 * Prints `{ reads, opened, heapGrowth, accounted, entries }` as JSON (bytes).
 */
import { randomBytes } from 'node:crypto';
import { SessionCookies } from '../../../bff/session/session-cookies.ts';
import { Sessions } from '../../../bff/session/sessions.ts';
import type { Session } from '../../../bff/session/session.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const mode = process.argv[2] as 'same' | 'variants' | 'distinct';
const reads = Number(process.argv[3] ?? 3000);

const manager = new SessionCookies(new Sessions({ secrets: [randomBytes(32).toString('base64url')], maxAge: 8 * 3600 }), { secure: false });

/** A session about as large as a real one (a JWT access token, an ID token, a refresh token). */
function session(): Session {
  const now = Date.now();
  return {
    v: 1,
    sid: randomBytes(16).toString('base64url'),
    user: { sub: randomBytes(8).toString('hex'), name: 'Dana Demo', email: 'dana@latch.test', email_verified: true },
    at: `eyJ${randomBytes(700).toString('base64url')}`,
    atExp: now + 3_600_000,
    rt: randomBytes(32).toString('base64url'),
    idt: `eyJ${randomBytes(560).toString('base64url')}`,
    iat: now,
    exp: now + 8 * 3_600_000,
  };
}

async function sealedCookie(): Promise<string> {
  const [set] = await manager.write(session());
  return set!.split(';')[0]!.slice('latch='.length);
}

/** A Cookie header of about 15 KB, built afresh (its own string) for every request. */
function header(value: string, i: number): string {
  const padding = Array.from({ length: 12 }, (_, k) => `pad${k}=${String(i).padStart(6, '0')}${'p'.repeat(1000)}`).join('; ');
  return `${padding}; latch=${value}`;
}

const settle = () => {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
};

const seals: string[] = [];
for (let i = 0; i < (mode === 'distinct' ? reads : 1); i++) seals.push(await sealedCookie());
const first = seals[0]!;
// Warm up the code paths (and the one entry "same" and "variants" share), then measure from a settled heap.
await manager.read(header(first, -1));
const before = settle();
let opened = 0;
for (let i = 0; i < reads; i++) {
  const value = mode === 'same' ? first : mode === 'variants' ? `${first}x${i}` : seals[i]!;
  if (await manager.read(header(value, i))) opened++;
}
const after = settle();
// (Before the fix the Sealer could not say what its cache held: NaN then.)
const stats = (manager.sessions.sealer as { cacheStats?: () => { bytes: number; entries: number } }).cacheStats?.() ?? { bytes: NaN, entries: NaN };
// `seals` is read after the second figure: alive through both, or V8 would free them in between.
process.stdout.write(JSON.stringify({ mode, reads, opened, heapGrowth: after - before, accounted: stats.bytes, entries: stats.entries, seals: seals.length }));

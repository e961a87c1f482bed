/**
 * The Sealer (bff/session/sealer.ts) against iron-session 8, which sealed Latch's cookies before it
 * moved to @hapi/iron: cookies sealed by either library must open with the other, in both directions
 * and across key rotation, so no session ends with the switch (or with a rollback). Also key rotation
 * itself, the keyed password id, and the cache of unsealed values: it must answer exactly as unseal()
 * would.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, it, mock } from 'node:test';
import * as Iron from '@hapi/iron';
import { sealData, unsealData } from 'iron-session';
import { Sealer } from '../../../bff/session/sealer.ts';

const secret = () => randomBytes(32).toString('base64url');
/** iron-session's password map for these secrets, with the ids the Sealer gives them. */
const passwords = (...secrets: string[]) => Object.fromEntries(secrets.map((s) => [Sealer.passwordId(s), s]));

const value = {
  v: 1,
  sid: 'c2lk',
  user: { sub: 'user-1', name: 'Zoë Ünïcode', email: 'zoe@example.com', email_verified: true },
  at: `eyJ${randomBytes(600).toString('base64url')}`,
  atExp: 1_900_000_000_000,
  rt: randomBytes(32).toString('base64url'),
  iat: 1_800_000_000_000,
  exp: 1_800_028_800_000,
};

describe('Sealer: cookies sealed by iron-session and by the Sealer open with either', () => {
  it('opens what iron-session 8 sealed', async () => {
    const key = secret();
    const sealed = await sealData(value, { password: passwords(key), ttl: 3600 });
    assert.deepEqual(await new Sealer([key]).unseal(sealed), value);
  });

  it('seals what iron-session 8 opens', async () => {
    const key = secret();
    const sealed = await new Sealer([key]).seal(value, 3600);
    assert.match(sealed, /^Fe26\.2\*\d+\*.*~2$/);
    assert.deepEqual(await unsealData(sealed, { password: passwords(key), ttl: 3600 }), value);
  });

  it('opens an older key\'s iron-session cookie after rotation, and marks it for resealing', async () => {
    const [oldKey, newKey] = [secret(), secret()];
    const sealed = await sealData(value, { password: passwords(oldKey), ttl: 3600 });
    const rotated = new Sealer([newKey, oldKey]);
    assert.deepEqual(await rotated.unseal(sealed), value);
    assert.equal(rotated.isStale(sealed), true);
    // …and iron-session, given both keys, opens what the rotated Sealer seals with the newest.
    const resealed = await rotated.seal(value, 3600);
    assert.equal(rotated.isStale(resealed), false);
    assert.deepEqual(await unsealData(resealed, { password: passwords(newKey, oldKey), ttl: 3600 }), value);
  });

  it('reads a seal without the version suffix as iron-session does (version 1: the value under persistent)', async () => {
    const key = secret();
    const v1 = await Iron.seal({ persistent: value }, { id: Sealer.passwordId(key), secret: key }, { ...Iron.defaults, ttl: 3600_000 });
    assert.deepEqual(await unsealData(v1, { password: passwords(key), ttl: 3600 }), value);
    assert.deepEqual(await new Sealer([key]).unseal(v1), value);
  });

  it('refuses what iron-session refuses: a tampered seal, another key, an expired seal', async () => {
    const key = secret();
    const sealer = new Sealer([key]);
    const sealed = await sealData(value, { password: passwords(key), ttl: 3600 });
    const parts = sealed.split('*');
    parts[4] = `${parts[4]!.slice(0, -1)}${parts[4]!.endsWith('A') ? 'B' : 'A'}`;
    const tampered = parts.join('*');
    assert.deepEqual(await unsealData(tampered, { password: passwords(key), ttl: 3600 }), {});
    assert.equal(await sealer.unseal(tampered), null);
    assert.equal(await new Sealer([secret()]).unseal(sealed), null);

    const expired = await sealer.seal(value, 1);
    const later = Date.now() + 62_000; // past the expiry and iron's 60 s allowance for clock skew
    const now = mock.method(Date, 'now', () => later);
    try {
      assert.deepEqual(await unsealData(expired, { password: passwords(key), ttl: 1 }), {});
      assert.equal(await sealer.unseal(expired), null);
    } finally {
      now.mock.restore();
    }
  });
});

describe('Sealer: key rotation', () => {
  it('reseals only what an older key sealed', async () => {
    const [oldKey, newKey] = [secret(), secret()];
    const sealedOld = await new Sealer([oldKey]).seal({ a: 1 }, 60);
    const rotated = new Sealer([newKey, oldKey]);
    assert.equal(rotated.isStale(sealedOld), true);
    assert.deepEqual(await rotated.unseal(sealedOld), { a: 1 });
    assert.equal(rotated.isStale(await rotated.seal({ a: 1 }, 60)), false);
    assert.equal(await new Sealer([newKey]).unseal(sealedOld), null);
  });
});

describe('Sealer: the password id every seal shows', () => {
  it('is keyed: not the first 4 bytes of SHA-256 of the secret (an unkeyed fingerprint), and the same for the same secret', async () => {
    const key = secret();
    const id = (await new Sealer([key]).seal(value, 60)).split('*')[1];
    const sha256 = String(createHash('sha256').update(key).digest().readUInt32BE(0));
    assert.notEqual(id, sha256);
    assert.equal(id, Sealer.passwordId(key));
    assert.equal(id, String(createHmac('sha256', key).update('latch/iron-password-id/v2').digest().readUInt32BE(0)));
    assert.equal((await new Sealer([key]).seal(value, 60)).split('*')[1], id, 'stable: every instance writes it');
    assert.notEqual(Sealer.passwordId(secret()), id);
  });

  it('still opens a cookie sealed under the legacy id (by Latch or iron-session), marks it stale, and reseals it under the keyed id', async () => {
    const key = secret();
    const sealer = new Sealer([key]);
    const legacy = Sealer.legacyPasswordId(key);
    assert.equal(legacy, String(createHash('sha256').update(key).digest().readUInt32BE(0)));
    const byLatch = `${await Iron.seal(value, { id: legacy, secret: key }, { ...Iron.defaults, ttl: 3600_000 })}~2`;
    const byIronSession = await sealData(value, { password: { [legacy]: key }, ttl: 3600 });
    for (const sealed of [byLatch, byIronSession]) {
      assert.equal(sealed.split('*')[1], legacy);
      assert.deepEqual(await sealer.unseal(sealed), value);
      assert.equal(sealer.isStale(sealed), true, 'stale: resealed on the way out');
    }
    const resealed = await sealer.seal(value, 3600);
    assert.equal(sealer.isStale(resealed), false);
    assert.equal(resealed.split('*')[1], Sealer.passwordId(key));
    // A legacy id of another secret opens nothing.
    const foreign = `${await Iron.seal(value, { id: Sealer.legacyPasswordId(secret()), secret: secret() }, { ...Iron.defaults, ttl: 3600_000 })}~2`;
    assert.equal(await sealer.unseal(foreign), null);
  });
});

describe('Sealer.unsealCached', () => {
  it('answers as unseal() does, with one shared, frozen value per sealed string', async () => {
    const sealer = new Sealer([secret()]);
    const sealed = await sealer.seal(value, 3600);
    const first = await sealer.unsealCached<typeof value>(sealed);
    assert.deepEqual(first, value);
    assert.equal(await sealer.unsealCached(sealed), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first!.user));
    assert.throws(() => {
      (first as { at: string }).at = 'changed';
    }, TypeError);
    // Another seal of the same value is another string: opened on its own.
    const again = await sealer.seal(value, 3600);
    assert.notEqual(await sealer.unsealCached(again), first);
  });

  it('remembers nothing that does not open', async () => {
    const sealer = new Sealer([secret()]);
    const foreign = await new Sealer([secret()]).seal(value, 3600);
    assert.equal(await sealer.unsealCached(foreign), null);
    assert.equal(await sealer.unsealCached(foreign), null);
    assert.equal(await sealer.unsealCached('Fe26.2*garbage'), null);
  });

  it('never answers a forged seal from memory, even one that reuses a remembered seal\'s MAC', async () => {
    const sealer = new Sealer([secret()]);
    const sealed = await sealer.seal(value, 3600);
    assert.deepEqual(await sealer.unsealCached(sealed), value);
    // Fe26.2*id*salt*iv*data*expiry*hmacSalt*hmac~2: change the encrypted data, keep the MAC (the cache's key).
    const parts = sealed.split('*');
    const data = parts[4]!;
    const flipped = `${data.slice(0, 10)}${data[10] === 'A' ? 'B' : 'A'}${data.slice(11)}`;
    const forged = [...parts.slice(0, 4), flipped, ...parts.slice(5)].join('*');
    assert.equal(forged.slice(forged.lastIndexOf('*')), sealed.slice(sealed.lastIndexOf('*')));
    assert.equal(await sealer.unsealCached(forged), null);
    // A longer expiry with the old MAC: refused too.
    const extended = [...parts.slice(0, 5), String(Number(parts[5]) + 86_400_000), ...parts.slice(6)].join('*');
    assert.equal(await sealer.unsealCached(extended), null);
    // And the real one still opens, from memory.
    assert.deepEqual(await sealer.unsealCached(sealed), value);
  });

  it('does not serve a remembered value past the seal\'s expiry', async () => {
    const sealer = new Sealer([secret()]);
    const sealed = await sealer.seal(value, 1);
    assert.deepEqual(await sealer.unsealCached(sealed), value);
    const later = Date.now() + 62_000;
    const now = mock.method(Date, 'now', () => later);
    try {
      assert.equal(await sealer.unsealCached(sealed), null);
    } finally {
      now.mock.restore();
    }
  });

  it('is off with cacheBytes: 0', async () => {
    const sealer = new Sealer([secret()], { cacheBytes: 0 });
    const sealed = await sealer.seal(value, 3600);
    const first = await sealer.unsealCached(sealed);
    assert.deepEqual(first, value);
    assert.notEqual(await sealer.unsealCached(sealed), first);
    assert.equal(Object.isFrozen(first), false);
  });
});

describe('Sealer: only canonical seals open, so one cookie is one cache entry', () => {
  it('opens a seal with iron-session\'s ~2, or without a suffix (version 1), and nothing else', async () => {
    const key = secret();
    const sealer = new Sealer([key]);
    const sealed = await sealer.seal(value, 3600);
    assert.ok(sealed.endsWith('~2'));
    assert.deepEqual(await sealer.unseal(sealed), value);
    const v1 = await Iron.seal({ persistent: value }, { id: Sealer.passwordId(key), secret: key }, { ...Iron.defaults, ttl: 3600_000 });
    assert.deepEqual(await sealer.unseal(v1), value);
    // The suffix lies outside the MAC; parseInt would read every one of these as 2.
    for (const tail of ['x1', 'x2', '0', '.5', ' ', '~2', '~', 'abc']) {
      assert.equal(await sealer.unseal(`${sealed}${tail}`), null, `~2${tail}`);
      assert.equal(await sealer.unsealCached(`${sealed}${tail}`), null, `~2${tail} (cached)`);
    }
    for (const suffix of ['~02', '~2.0', '~+2', '~3', '~1', '~']) {
      assert.equal(await sealer.unseal(`${sealed.slice(0, -2)}${suffix}`), null, suffix);
    }
  });

  it('keeps one entry for a cookie, however many variants of it arrive', async () => {
    const sealer = new Sealer([secret()]);
    const sealed = await sealer.seal(value, 3600);
    assert.deepEqual(await sealer.unsealCached(sealed), value);
    for (let i = 0; i < 50; i++) await sealer.unsealCached(`${sealed}x${i}`);
    assert.equal(sealer.cacheStats().entries, 1);
  });
});

/**
 * Heap figures, from a child process with a settled heap (gc()) before and after 3,000 reads, each with
 * its own ~15 KB Cookie header (test/bff/session/seal-cache-heap.ts). Below 1 MiB a growth is noise (the same
 * cookie's reads grow the heap by 0 to 0.1 MiB); the defect this guards against grew it by 51 MiB.
 */
describe('Sealer cache: heap figures', () => {
  const NOISE = 1024 * 1024;
  const script = fileURLToPath(new URL('./seal-cache-heap.ts', import.meta.url));
  const measure = (mode: 'same' | 'variants' | 'distinct') => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, mode, '3000'], { encoding: 'utf8', timeout: 60_000 });
    return JSON.parse(out) as { opened: number; heapGrowth: number; accounted: number; entries: number };
  };

  it('grows the heap no more for 3,000 variants of one cookie (~2x1, ~2x2…) than twice what 3,000 reads of that cookie do', () => {
    const same = measure('same');
    const variants = measure('variants');
    assert.equal(same.opened, 3000);
    assert.equal(variants.opened, 0, 'no variant opens');
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
    assert.ok(variants.heapGrowth <= 2 * Math.max(same.heapGrowth, NOISE), `variants grew the heap by ${mib(variants.heapGrowth)}, the same cookie by ${mib(same.heapGrowth)}`);
  });

  it('counts what 3,000 cached sessions really keep, within a factor of 2 of the heap they grow', () => {
    const distinct = measure('distinct');
    assert.equal(distinct.entries, 3000);
    const ratio = distinct.heapGrowth / distinct.accounted;
    assert.ok(ratio > 0.5 && ratio < 2, `heap +${distinct.heapGrowth} bytes, counted ${distinct.accounted} (ratio ${ratio.toFixed(2)})`);
  });
});

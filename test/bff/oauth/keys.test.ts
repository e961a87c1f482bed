/**
 * bff/oauth/keys.ts against a real JWKS endpoint on loopback whose keys and answers the tests change:
 * rotation (a new kid, or new key material under the old kid), kid-less tokens, floods, failures,
 * readiness and the maximum age.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { errors as joseErrors, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { KeySetUnavailable, RemoteKeySet } from '../../../bff/oauth/keys.ts';
import { listen, type Listening } from '../../helpers/net.ts';

interface Key {
  kid?: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid?: string, alg = 'RS256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), alg, use: 'sig', ...(kid ? { kid } : {}) };
  return { ...(kid ? { kid } : {}), privateKey, jwk };
}

type Mode = 'ok' | '500' | 'html' | 'not-a-key-set' | 'hang';

const servers: Listening[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** A JWKS endpoint: publishes `keys`, answers as `mode` says, records when each fetch arrived. */
async function jwksServer(initial: Key[]) {
  const state = { keys: initial, mode: 'ok' as Mode, fetchedAt: [] as number[] };
  const server = await listen((_req, res) => {
    state.fetchedAt.push(Date.now());
    switch (state.mode) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
      case '500':
        res.writeHead(500, { 'content-type': 'application/json' });
        return res.end('{"error":"server_error"}');
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<!doctype html><title>Sign in</title>');
      case 'not-a-key-set':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"issuer":"https://example.test"}');
      case 'hang':
        return; // never answers
    }
  });
  servers.push(server);
  return { ...state, state, url: new URL(`${server.url}/jwks`) };
}

const sign = (key: Key, header: Record<string, unknown> = {}) =>
  new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: key.jwk.alg!, ...(key.kid ? { kid: key.kid } : {}), ...header }).sign(key.privateKey);

const verifyWith = (set: RemoteKeySet, jwt: string) => set.verify((getKey) => jwtVerify(jwt, getKey, { algorithms: ['RS256', 'ES256'] }));

describe('RemoteKeySet (bff/oauth/keys.ts)', () => {
  it('fetches again at once for an unknown kid (a rotation right after a fetch), and verifies', async () => {
    const k1 = await newKey('k1');
    const jwks = await jwksServer([k1]);
    const set = new RemoteKeySet(jwks.url, { timeoutMs: 1000 });
    await verifyWith(set, await sign(k1));
    const k2 = await newKey('k2');
    jwks.state.keys = [k2];
    const { payload } = await verifyWith(set, await sign(k2));
    assert.equal(payload.sub, 'u1');
    assert.equal(jwks.state.fetchedAt.length, 2);
  });

  it('fetches again when the kid is known but its key no longer verifies (new key material under the old kid)', async () => {
    const old = await newKey('main');
    const jwks = await jwksServer([old]);
    const set = new RemoteKeySet(jwks.url, { timeoutMs: 1000 });
    await verifyWith(set, await sign(old));
    const replacement = await newKey('main');
    jwks.state.keys = [replacement];
    await verifyWith(set, await sign(replacement));
    assert.equal(jwks.state.fetchedAt.length, 2);
  });

  it('tries every candidate for a token without kid when several keys fit, and refuses one none verifies', async () => {
    const [a, b, c] = await Promise.all([newKey(), newKey(), newKey()]);
    const jwks = await jwksServer([a, b, c]);
    const set = new RemoteKeySet(jwks.url, { timeoutMs: 1000 });
    assert.equal((await verifyWith(set, await sign(c))).payload.sub, 'u1');
    const stranger = await newKey();
    await assert.rejects(verifyWith(set, await sign(stranger)), joseErrors.JWSSignatureVerificationFailed);
    assert.equal(jwks.state.fetchedAt.length, 2, 'one refetch before giving up');
  });

  it('shares one refetch among concurrent misses (single flight)', async () => {
    const k1 = await newKey('k1');
    const jwks = await jwksServer([k1]);
    const set = new RemoteKeySet(jwks.url, { timeoutMs: 1000 });
    await verifyWith(set, await sign(k1));
    const k2 = await newKey('k2');
    jwks.state.keys = [k1, k2];
    const token = await sign(k2);
    const results = await Promise.all(Array.from({ length: 25 }, () => verifyWith(set, token)));
    assert.equal(results.length, 25);
    assert.equal(jwks.state.fetchedAt.length, 2);
  });

  it('keeps fetches at least the floor apart, start to start, however many misses arrive', async () => {
    const k1 = await newKey('k1');
    const jwks = await jwksServer([k1]);
    const set = new RemoteKeySet(jwks.url, { timeoutMs: 1000, floorMs: 400 });
    // Start times as the key set sends them: the server's receipt times can bunch up on a loaded
    // machine (a first request delayed in transit), which says nothing about the floor.
    const times: number[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      if (String(input instanceof Request ? input.url : input) === jwks.url.href) times.push(Date.now());
      return realFetch(input, init);
    };
    try {
      await verifyWith(set, await sign(k1));
      const liar = await newKey('nobody');
      const lies = await Promise.all(Array.from({ length: 6 }, (_, i) => sign(liar, { kid: `made-up-${i}` })));
      for (const lie of lies) await assert.rejects(verifyWith(set, lie), joseErrors.JWKSNoMatchingKey);
      assert.ok(times.length <= 1 + lies.length, `${times.length} fetches`);
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.equal(times.length, jwks.state.fetchedAt.length, 'every fetch the server saw was counted');
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 390, `fetches ${i - 1} and ${i} were ${times[i]! - times[i - 1]!} ms apart`);
  });

  for (const [mode, reason] of [['500', 'status'], ['html', 'not-json'], ['not-a-key-set', 'not-a-key-set'], ['hang', 'timeout']] as const) {
    it(`reports a key endpoint answering ${mode} as KeySetUnavailable (${reason}), never as a token fault`, async () => {
      const k1 = await newKey('k1');
      const jwks = await jwksServer([k1]);
      jwks.state.mode = mode;
      const set = new RemoteKeySet(jwks.url, { timeoutMs: 300 });
      await assert.rejects(verifyWith(set, await sign(k1)), (err: unknown) => {
        assert.ok(err instanceof KeySetUnavailable, String(err));
        assert.equal(err.reason, reason);
        return true;
      });
    });
  }

  it('reports an unreachable key endpoint as KeySetUnavailable (unreachable)', async () => {
    const k1 = await newKey('k1');
    const jwks = await jwksServer([k1]);
    await servers.pop()!.close();
    const set = new RemoteKeySet(jwks.url, { timeoutMs: 300 });
    await assert.rejects(verifyWith(set, await sign(k1)), (err: unknown) => err instanceof KeySetUnavailable && err.reason === 'unreachable');
  });

  describe('ready()', () => {
    it('loads the set once and never refetches a good one, however often it is asked', async () => {
      const k1 = await newKey('k1');
      const jwks = await jwksServer([k1]);
      const set = new RemoteKeySet(jwks.url, { timeoutMs: 1000 });
      for (let i = 0; i < 5; i++) await set.ready('RS256');
      assert.equal(jwks.state.fetchedAt.length, 1);
      // ...so it does not hold back the refetch a rotation needs.
      const k2 = await newKey('k2');
      jwks.state.keys = [k2];
      await verifyWith(set, await sign(k2));
      assert.equal(jwks.state.fetchedAt.length, 2);
    });

    it('does not hide a failed fetch: after one, it fetches again and fails until the endpoint is back', async () => {
      const k1 = await newKey('k1');
      const jwks = await jwksServer([k1]);
      const set = new RemoteKeySet(jwks.url, { timeoutMs: 1000, floorMs: 50 });
      await set.ready('RS256');
      // A rotation whose refetch fails: the cached set is known to be behind.
      const k2 = await newKey('k2');
      jwks.state.keys = [k2];
      jwks.state.mode = '500';
      await assert.rejects(verifyWith(set, await sign(k2)), KeySetUnavailable);
      await assert.rejects(set.ready('RS256'), KeySetUnavailable);
      jwks.state.mode = 'ok';
      await set.ready('RS256');
      await verifyWith(set, await sign(k2));
    });

    it('fails when the set holds no key for the pinned algorithm', async () => {
      const ec = await newKey('ec', 'ES256');
      const jwks = await jwksServer([ec]);
      const set = new RemoteKeySet(jwks.url, { timeoutMs: 1000 });
      await assert.rejects(set.ready('RS256'), (err: unknown) => err instanceof KeySetUnavailable && err.reason === 'no-usable-key');
      await set.ready('ES256');
    });
  });

  it('refetches a set older than its maximum age before use, and stops using it if that fails', async () => {
    const k1 = await newKey('k1');
    const jwks = await jwksServer([k1]);
    const set = new RemoteKeySet(jwks.url, { timeoutMs: 300, maxAgeMs: 200, floorMs: 50 });
    const token = await sign(k1);
    await verifyWith(set, token);
    await verifyWith(set, token);
    assert.equal(jwks.state.fetchedAt.length, 1);
    await new Promise((r) => setTimeout(r, 250));
    jwks.state.mode = '500';
    await assert.rejects(verifyWith(set, token), KeySetUnavailable);
    jwks.state.mode = 'ok';
    await verifyWith(set, token);
  });
});

/**
 * `SessionCookies` (bff/session/session-cookies.ts), one site's or one partition's cookies, as a plain
 * object: the session cookie and its chunks, clearing, transactions, each site's names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { siteCookies } from '../../../bff/session/session-cookies.ts';
import { Sessions } from '../../../bff/session/sessions.ts';
import { cookiesFor, header, secret, session } from './support.ts';

describe('SessionCookies', () => {
  it('round-trips a session, chunked when large, and clears every chunk', async () => {
    const m = cookiesFor({}, true);
    const big = session({ user: { sub: 'u1', groups: Array.from({ length: 200 }, (_, i) => `group-${i}-${'y'.repeat(10)}`) } });
    const set = await m.write(big);
    assert.ok(set.length >= 2);
    assert.ok(set.every((c) => c.startsWith('__Host-latch') && /Secure/.test(c) && Buffer.byteLength(c) < 4096));
    const read = await m.read(header(set));
    assert.deepEqual(read?.session.user, big.user);
    const cleared = m.clear('__Host-latch.7=x').map((c) => c.split('=')[0]);
    assert.deepEqual(cleared, ['__Host-latch', '__Host-latch.1', '__Host-latch.2', '__Host-latch.7']);
  });

  it('clears chunks a smaller session no longer uses', async () => {
    const m = cookiesFor();
    const set = await m.write(session(), { cookieHeader: 'latch=3.a; latch.1=b; latch.2=c' });
    assert.deepEqual(set.map((c) => c.split('=')[0]), ['latch', 'latch.1', 'latch.2']);
    assert.match(set[1]!, /Max-Age=0/);
  });

  it('consumes a transaction on first read', async () => {
    const m = cookiesFor();
    const tx = { state: 's'.repeat(43), nonce: 'n', codeVerifier: 'v', returnTo: 'https://a.example/', mode: 'redirect' as const, createdAt: Date.now() };
    const cookie = (await m.writeTransaction(tx)).at(-1)!.split(';')[0]!;
    assert.ok(await m.readTransaction(cookie, tx.state));
    assert.equal(await m.readTransaction(cookie, tx.state), null);
  });

  it('gives each site its own cookie names over the one Sessions, and the hand-off its partitioned cookie', async () => {
    const sessions = new Sessions({ secrets: [secret()], maxAge: 3600 });
    const root = siteCookies(sessions, new URL('https://auth.shop.example/'));
    const mounted = siteCookies(sessions, new URL('https://shop.example/latch/'));
    const dev = siteCookies(sessions, new URL('http://localhost:8787'));
    const partitioned = siteCookies(sessions, new URL('https://auth.shop.example/'), { partitioned: true });
    assert.deepEqual([root.name, mounted.name, dev.name, partitioned.name], ['__Host-latch', '__Secure-latch', 'latch', '__Host-latch-p']);
    const s = session();
    const [set] = await mounted.write(s);
    assert.match(set!, /; Path=\/latch; HttpOnly; Secure; SameSite=Lax$/);
    assert.match((await partitioned.write(s))[0]!, /; Path=\/; HttpOnly; Secure; Partitioned; SameSite=None$/);
    // The same session, sealed for one site, opens through another's cookie of its name: one sealer.
    assert.equal((await root.read(`__Host-latch=${set!.split(';')[0]!.split('=')[1]}`))?.session.sid, s.sid);
  });
});

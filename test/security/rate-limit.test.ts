/**
 * The per-client rate limit on sign-in (LATCH_RATE_LIMIT), attacked through the spellings of a path:
 * the limit belongs to the route a request reaches (routes/table.ts `rateLimited`), so every spelling
 * the route table accepts (`/login/`, HEAD) spends the same budget, and every other spelling reaches
 * no route at all (404, no work done).
 *
 * The damage measured is the one that matters: client-authenticated code exchanges the BFF sends to
 * the authorization server for anonymous callbacks (counted at the dev provider's token endpoint).
 * Each case runs on its own BFF instance, so each starts with a fresh budget.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../helpers/http.ts';
import { errorCode, SITE, startSecStack, type BffInstance, type SecStack } from './support.ts';

const BUDGET = 4;
const PAIRS = 50;

describe('rate limit on /login and /callback: by the matched route, never the raw path', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack({ env: { LATCH_RATE_LIMIT: String(BUDGET), LATCH_RATE_LIMIT_WINDOW: '600' } });
  });
  after(() => stack.close());

  /** A fresh BFF (fresh limiter) on the same provider client. */
  const fresh = () => stack.addBff();

  /**
   * `pairs` anonymous sign-in attempts: `login` (a real transaction cookie and state), then `callback`
   * with that state, the cookie and a made-up code, which the BFF can only refuse after a code
   * exchange at the provider. Returns the statuses and the exchanges the provider received.
   */
  async function attempts(bff: BffInstance, login: string, callback: string, pairs = PAIRS) {
    stack.provider.resetCounts();
    const statuses: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const client = new HttpClient();
      const start = await client.request(`${bff.url}${login}?returnTo=${encodeURIComponent(`${SITE}/`)}`);
      statuses.push(start.status);
      const state = start.location ? new URL(start.location).searchParams.get('state') : null;
      const query = new URLSearchParams({ code: `forged-${i}`, state: state ?? `none-${i}`, iss: stack.provider.issuer });
      statuses.push((await client.request(`${bff.url}${callback}?${query}`)).status);
    }
    return { statuses, exchanges: stack.provider.counts.tokenByGrant['authorization_code'] ?? 0 };
  }

  for (const [login, callback] of [['/login', '/callback'], ['/login/', '/callback/'], ['/login/', '/callback'], ['/login', '/callback/']] as const) {
    it(`${PAIRS} anonymous ${login} + ${callback} pairs spend one budget: ${BUDGET / 2} code exchanges, then 429`, async () => {
      const { statuses, exchanges } = await attempts(await fresh(), login, callback);
      assert.equal(exchanges, BUDGET / 2, `code exchanges the provider received for ${login} + ${callback}`);
      assert.deepEqual(statuses.slice(0, BUDGET).map((s) => s === 302 || s === 400 || s === 502), Array(BUDGET).fill(true), `within the budget: ${statuses.slice(0, BUDGET)}`);
      assert.deepEqual(statuses.slice(BUDGET), Array(2 * PAIRS - BUDGET).fill(429), 'every request after the budget');
    });
  }

  it('counts HEAD (answered by the GET route) against the same budget', async () => {
    const bff = await fresh();
    for (let i = 0; i < BUDGET; i++) assert.equal((await new HttpClient().request(`${bff.url}/login/?returnTo=${encodeURIComponent(SITE)}`, { method: 'HEAD' })).status, 302);
    const limited = await new HttpClient().request(`${bff.url}/login?returnTo=${encodeURIComponent(SITE)}`);
    assert.equal(limited.status, 429);
    assert.equal(errorCode(limited), 'LATCH_RATE_LIMITED');
  });

  it('leaves no spelling that reaches a sign-in route unlimited: once the budget is spent, each is 429 or reaches no route (404)', async () => {
    const bff = await fresh();
    for (let i = 0; i < BUDGET; i++) assert.equal((await new HttpClient().request(`${bff.url}/login?returnTo=${encodeURIComponent(SITE)}`)).status, 302);
    // What Koa's ctx.path keeps as sent (no decoding, no case folding, no dot segments) and the table
    // would have to match; a client may send any of them raw.
    const spellings = [
      '/login', '/login/', '/callback', '/callback/', '//login', '/login//', '/LOGIN', '/Login/', '/%6Cogin', '/login%2F', '/login%2f',
      '/./login', '/x/../login', '/login/.', '/login;', '/login%00', '/%2Flogin', '/login%20', '/callback//', '/CALLBACK', '/%63allback',
    ];
    const seen: string[] = [];
    for (const spelling of spellings) {
      const res = await rawGet(bff.listening.port, `${spelling}?returnTo=${encodeURIComponent(SITE)}&state=s&code=c`);
      seen.push(`${spelling} ${res}`);
      assert.ok(res === 429 || res === 404, `${spelling} answered ${res}: a sign-in route reached without the limit`);
    }
    assert.ok(seen.filter((s) => s.endsWith(' 429')).length >= 4, seen.join(', '));
  });

  it('spares routes that do not declare the limit (/me, /healthz), whatever the budget', async () => {
    const bff = await fresh();
    for (let i = 0; i < BUDGET + 1; i++) await new HttpClient().request(`${bff.url}/login/?returnTo=${encodeURIComponent(SITE)}`);
    assert.equal((await new HttpClient().request(`${bff.url}/login/`)).status, 429);
    assert.equal((await new HttpClient().request(`${bff.url}/me/`)).status, 401);
    assert.equal((await new HttpClient().request(`${bff.url}/healthz/`)).status, 200);
  });
});

/** The status of a GET whose request target goes on the wire exactly as written (fetch would normalise it). */
function rawGet(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (head += chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
  });
}

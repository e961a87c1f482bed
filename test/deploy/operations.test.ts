/**
 * The container entry, bff/server.ts, serving on a port: graceful shutdown, and the request timeouts
 * it sets on Node's server (slow heads and bodies, idle keep-alive connections). The routes it serves
 * are tested where they live: test/bff/routes/ (/readyz, /metrics, /latch.js…).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../bff/config.ts';
import type { Provider } from '../../bff/providers/provider.ts';
import { startServer } from '../../bff/server.ts';
import { bffEnv as env } from '../helpers/bff.ts';
import { freePort, trickle } from '../helpers/net.ts';
import { captureLogs } from '../helpers/logs.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bff/server.ts graceful shutdown', () => {
  it('drains at once when only idle keep-alive connections remain', async () => {
    const config = loadConfig(env({ PORT: String(await freePort()) }));
    const running = await startServer(config, { logger: captureLogs().logger });
    const url = `http://127.0.0.1:${config.port}`;
    assert.equal((await fetch(`${url}/healthz`)).status, 200); // leaves a keep-alive connection open
    const started = performance.now();
    assert.equal(await running.shutdown(), 'drained');
    assert.ok(performance.now() - started < 1000, 'an idle keep-alive connection does not hold the process');
  });

  it('cuts requests still running when the grace period ends', async () => {
    const hanging: Provider = { ...({} as Provider), kind: 'test', ready: () => new Promise(() => {}) };
    const config = loadConfig(env({ PORT: String(await freePort()) }));
    const running = await startServer(config, { logger: captureLogs().logger, provider: hanging });
    const inFlight = fetch(`http://127.0.0.1:${config.port}/readyz`).then((r) => r.status, () => 'cut');
    await sleep(100);
    assert.equal(await running.shutdown(300), 'forced');
    assert.equal(await inFlight, 'cut');
  });
});

describe('bff/server.ts request timeouts (LATCH_REQUEST_TIMEOUT_MS)', () => {
  const TIMEOUT_MS = 1000;
  /** The timeout, then one connection check (a tenth of it), and room for a loaded machine. */
  const BOUND_MS = TIMEOUT_MS + 1500;
  let running: Awaited<ReturnType<typeof startServer>>;
  let port: number;

  before(async () => {
    const config = loadConfig(env({ PORT: String(await freePort()), LATCH_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) }));
    port = config.port;
    running = await startServer(config, { logger: captureLogs().logger });
  });
  after(() => running?.shutdown(500));

  it('sets Node\'s timeouts so that the request timeout holds: headersTimeout no larger, checked often', () => {
    const { server } = running;
    assert.equal(server.requestTimeout, TIMEOUT_MS);
    assert.ok(server.headersTimeout > 0 && server.headersTimeout <= server.requestTimeout, `headersTimeout ${server.headersTimeout}`);
    // Node looks for expired requests only this often (30 s by default).
    const interval = (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval;
    assert.ok(interval > 0 && interval <= TIMEOUT_MS / 10, `connectionsCheckingInterval ${interval}`);
    assert.equal(server.keepAliveTimeout, 65_000);
  });

  /** Twenty slow clients at once; every one must be closed within the bound. */
  async function twenty(head: () => string, drip: string): Promise<{ elapsed: number[]; answers: string[] }> {
    const slow = await Promise.all(Array.from({ length: 20 }, () => trickle(port, head(), () => drip)));
    try {
      const elapsed = await Promise.all(slow.map((s) => Promise.race([s.closed, sleep(BOUND_MS).then(() => Infinity)])));
      return { elapsed, answers: slow.map((s) => s.answer()) };
    } finally {
      for (const s of slow) s.stop();
    }
  }

  it('closes twenty connections trickling a body to /backchannel-logout, each with 408, within the timeout', async () => {
    const { elapsed, answers } = await twenty(() => `POST /backchannel-logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n`, 'a');
    const open = elapsed.filter((ms) => ms === Infinity).length;
    assert.equal(open, 0, `${open} of 20 connections still open after ${BOUND_MS} ms`);
    for (const ms of elapsed) assert.ok(ms >= TIMEOUT_MS - 50, `closed after ${Math.round(ms)} ms, before the timeout`);
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 408 /, JSON.stringify(answer.slice(0, 120)));
  });

  it('closes twenty connections trickling their request head, within the timeout (Node answers 408)', async () => {
    let n = 0;
    const { elapsed, answers } = await twenty(() => `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${n++}: `, 'a');
    assert.equal(elapsed.filter((ms) => ms === Infinity).length, 0, `still open after ${BOUND_MS} ms`);
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 408 /, JSON.stringify(answer.slice(0, 120)));
  });

  it('closes twenty connections trickling a body that no route reads, within the timeout', async () => {
    // /logout refuses it at once (no CSRF header) and never reads the body: only Node's requestTimeout ends it.
    const { elapsed } = await twenty(() => `POST /logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n\r\n`, 'a');
    assert.equal(elapsed.filter((ms) => ms === Infinity).length, 0, `still open after ${BOUND_MS} ms`);
  });

  it('leaves an idle keep-alive connection alone for longer than the request timeout', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const ask = async () => {
      got = '';
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      for (let i = 0; i < 100 && !/\r\n\r\n[\s\S]*\}/.test(got); i++) await sleep(10);
      return got;
    };
    try {
      assert.match(await ask(), /^HTTP\/1\.1 200 /);
      await sleep(TIMEOUT_MS + 500);
      assert.equal(socket.destroyed, false, 'the idle connection was closed');
      assert.match(await ask(), /^HTTP\/1\.1 200 /, 'a second request on the same connection');
    } finally {
      socket.destroy();
    }
  });
});

/**
 * The levels the BFF logs its answered errors at (middleware/errors.ts), read from its real log lines:
 * what is nobody's fault (a signed-out visitor, a scanner) at debug, so that an operator's warn and
 * error lines are the refusals and faults worth reading.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSession } from '../../../bff/session/session.ts';
import { OutageLog } from '../../../bff/session/stores/redis.ts';
import { get, post, signedIn, SITE, startSecStack, type BffInstance, type SecStack } from '../../security/support.ts';

interface Line {
  level: number;
  code?: string;
  status?: number;
  path?: string;
}

const DEBUG = 20;
const INFO = 30;
const WARN = 40;
const ERROR = 50;

/** The error lines (those with a code) that `act` made the BFF write. */
async function linesOf(bff: BffInstance, act: () => Promise<unknown>): Promise<Line[]> {
  const from = bff.logs.length;
  await act();
  return bff.logs.slice(from).map((l) => JSON.parse(l) as Line).filter((l) => l.code !== undefined);
}

describe('log levels of answered errors', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack();
  });
  after(() => stack.close());

  it('logs a signed-out /me (401 LATCH_UNAUTHENTICATED) at debug, never at warn', async () => {
    const lines = await linesOf(stack.bff, async () => {
      for (let i = 0; i < 25; i++) assert.equal((await get(`${stack.bffUrl}/me`, { origin: SITE })).status, 401);
    });
    assert.equal(lines.length, 25);
    assert.deepEqual(new Set(lines.map((l) => `${l.level} ${l.code}`)), new Set([`${DEBUG} LATCH_UNAUTHENTICATED`]));
  });

  it('logs a scanner\'s probes (404, 405) at debug', async () => {
    const lines = await linesOf(stack.bff, async () => {
      for (const path of ['/wp-login.php', '/.env', '/admin/', '/latch.0000.js']) assert.equal((await get(`${stack.bffUrl}${path}`)).status, 404);
      assert.equal((await post(`${stack.bffUrl}/me`)).status, 405);
    });
    assert.deepEqual(lines.map((l) => [l.level, l.status]), [[DEBUG, 404], [DEBUG, 404], [DEBUG, 404], [DEBUG, 404], [DEBUG, 405]]);
  });

  it('logs the end of a session (401 LATCH_SESSION_EXPIRED) at info', async () => {
    const cookies = stack.bff.app.latch.sites.all[0]!.cookies;
    // A session whose access token has expired and that has no refresh token: it has ended.
    const ended = createSession({ tokens: { accessToken: 'spent-access-token', expiresAt: Date.now() - 1000 }, user: { sub: 'user-dana' } }, 3600);
    const cookie = (await cookies.write(ended))[0]!.split(';')[0]!;
    const lines = await linesOf(stack.bff, async () => assert.equal((await get(`${stack.bffUrl}/me`, { cookie })).status, 401));
    assert.deepEqual(lines.map((l) => [l.level, l.code]), [[INFO, 'LATCH_SESSION_EXPIRED']]);
  });

  it('keeps refusals at warn: a cross-site logout (403 LATCH_CSRF), a forged callback (400 LATCH_STATE_MISMATCH)', async () => {
    const { cookie } = await signedIn(stack);
    const lines = await linesOf(stack.bff, async () => {
      assert.equal((await post(`${stack.bffUrl}/logout`, { cookie, origin: SITE })).status, 403);
      assert.equal((await get(`${stack.bffUrl}/callback?state=forged&code=x`)).status, 400);
    });
    assert.deepEqual(lines.map((l) => [l.level, l.code]), [[WARN, 'LATCH_CSRF'], [WARN, 'LATCH_STATE_MISMATCH']]);
  });

  it('keeps faults at error: an authorization server that cannot be reached (502)', async () => {
    const broken = await stack.addBff({ LATCH_ISSUER: 'http://127.0.0.1:9' });
    const lines = await linesOf(broken, async () => {
      const res = await get(`${broken.url}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`);
      assert.ok(res.status >= 500, String(res.status));
    });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, ERROR);
  });
});

describe('OutageLog: a store outage in a few lines', () => {
  function harness() {
    const lines: Array<{ level: 'error' | 'info'; obj: Record<string, unknown>; msg: string }> = [];
    let now = 1_000_000;
    const log = new OutageLog(
      { error: (obj, msg) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }), info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }) },
      { summaryMs: 5000, now: () => now },
    );
    return { lines, log, advance: (ms: number) => (now += ms) };
  }

  it('logs the start once, then at most one count every 5 s however many commands fail, then the end once', () => {
    const { lines, log, advance } = harness();
    const cause = new Error('connect ECONNREFUSED');
    // 30 s of outage, 100 failed commands a second.
    for (let i = 0; i < 3000; i++) {
      log.failed(cause);
      advance(10);
    }
    log.ok();
    log.ok(); // already over: nothing more
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1 + 5, 'the start, then one count per full 5 s');
    assert.equal(errors[0]!.obj['event'], 'store-outage');
    assert.equal(errors[0]!.obj['cause'], 'Error: connect ECONNREFUSED');
    assert.deepEqual(errors.slice(1).map((l) => l.obj['failed']), [500, 500, 500, 500, 500]);
    const end = lines.filter((l) => l.level === 'info');
    assert.equal(end.length, 1);
    assert.equal(end[0]!.obj['failed'], 3000);
    assert.equal(end[0]!.obj['downMs'], 30_000);
  });

  it('starts an outage on a connection error without counting it, and logs nothing while the store serves', () => {
    const { lines, log, advance } = harness();
    log.ok();
    assert.equal(lines.length, 0);
    log.failed(new Error('read ECONNRESET'), false);
    log.failed(new Error('read ECONNRESET'), false);
    advance(6000);
    log.failed(new Error('read ECONNRESET'), false);
    log.ok();
    assert.deepEqual(lines.map((l) => [l.level, l.obj['event'], l.obj['failed']]), [['error', 'store-outage', undefined], ['info', 'store-recovered', 0]]);
  });
});

/**
 * The levels the BFF logs its answered errors at (middleware/errors.ts), read from its real log lines:
 * what is nobody's fault (a signed-out visitor, a scanner) at debug, so that an operator's warn and
 * error lines are the refusals and faults worth reading. A BFF of its own, answered in memory; its
 * authorization server cannot be reached.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSession } from '../../../bff/session/session.ts';
import { memoryBff, SITE, type MemoryBff } from '../../helpers/bff.ts';

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
async function linesOf(bff: MemoryBff, act: () => Promise<unknown>): Promise<Line[]> {
  const from = bff.logs.length;
  await act();
  return bff.logs.slice(from).map((l) => JSON.parse(l) as Line).filter((l) => l.code !== undefined);
}

describe('log levels of answered errors', () => {
  const bff = memoryBff();
  const get = (path: string, headers: Record<string, string> = {}) => bff.fetch(path, { headers });
  const post = (path: string, headers: Record<string, string> = {}) => bff.fetch(path, { method: 'POST', headers });

  it('logs a signed-out /me (401 LATCH_UNAUTHENTICATED) at debug, never at warn', async () => {
    const lines = await linesOf(bff, async () => {
      for (let i = 0; i < 25; i++) assert.equal((await get('/me', { origin: SITE })).status, 401);
    });
    assert.equal(lines.length, 25);
    assert.deepEqual(new Set(lines.map((l) => `${l.level} ${l.code}`)), new Set([`${DEBUG} LATCH_UNAUTHENTICATED`]));
  });

  it('logs a scanner\'s probes (404, 405) at debug', async () => {
    const lines = await linesOf(bff, async () => {
      for (const path of ['/wp-login.php', '/.env', '/admin/', '/latch.0000.js']) assert.equal((await get(path)).status, 404);
      assert.equal((await post('/me')).status, 405);
    });
    assert.deepEqual(lines.map((l) => [l.level, l.status]), [[DEBUG, 404], [DEBUG, 404], [DEBUG, 404], [DEBUG, 404], [DEBUG, 405]]);
  });

  it('logs the end of a session (401 LATCH_SESSION_EXPIRED) at info', async () => {
    // A session whose access token has expired and that has no refresh token: it has ended.
    const ended = createSession({ tokens: { accessToken: 'spent-access-token', expiresAt: Date.now() - 1000 }, user: { sub: 'user-dana' } }, 3600);
    const cookie = await bff.cookieFor(ended);
    const lines = await linesOf(bff, async () => assert.equal((await get('/me', { cookie })).status, 401));
    assert.deepEqual(lines.map((l) => [l.level, l.code]), [[INFO, 'LATCH_SESSION_EXPIRED']]);
  });

  it('keeps refusals at warn: a cross-site logout (403 LATCH_CSRF), a forged callback (400 LATCH_STATE_MISMATCH)', async () => {
    const cookie = await bff.cookieFor(createSession({ tokens: { accessToken: 'at', expiresAt: Date.now() + 3600_000 }, user: { sub: 'user-dana' } }, 3600));
    const lines = await linesOf(bff, async () => {
      assert.equal((await post('/logout', { cookie, origin: SITE })).status, 403);
      assert.equal((await get('/callback?state=forged&code=x')).status, 400);
    });
    assert.deepEqual(lines.map((l) => [l.level, l.code]), [[WARN, 'LATCH_CSRF'], [WARN, 'LATCH_STATE_MISMATCH']]);
  });

  it('keeps faults at error: an authorization server that cannot be reached (502)', async () => {
    const lines = await linesOf(bff, async () => {
      const res = await get(`/login?returnTo=${encodeURIComponent(`${SITE}/`)}`);
      assert.ok(res.status >= 500, String(res.status));
    });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, ERROR);
  });
});

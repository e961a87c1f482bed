/** The limits section (bff/config/limits.ts): LATCH_REQUEST_TIMEOUT_MS, LATCH_RATE_LIMIT(_WINDOW), LATCH_MAX_HEADER_BYTES, LATCH_MAX_BODY_BYTES. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';

const valid = { LATCH_ISSUER: 'https://login.example.com', ...BASE_ENV };
const env = (extra: Record<string, string> = {}) => ({ ...valid, ...extra });

describe('limits', () => {
  it('has documented defaults', () => {
    const c = loadConfig(valid);
    assert.deepEqual(c.rateLimit, { max: 100, windowSeconds: 60 });
    assert.equal(c.maxHeaderBytes, 16384);
    assert.equal(c.maxBodyBytes, 1048576);
    assert.equal(c.requestTimeoutMs, 30_000);
  });

  it('reads LATCH_REQUEST_TIMEOUT_MS (default 30 s) and names it when out of range', () => {
    assert.equal(loadConfig(env()).requestTimeoutMs, 30_000);
    assert.equal(loadConfig(env({ LATCH_REQUEST_TIMEOUT_MS: '120000' })).requestTimeoutMs, 120_000);
    for (const bad of ['0', '999', '3600001', '5s', '-1']) assert.deepEqual(problemsOf(env({ LATCH_REQUEST_TIMEOUT_MS: bad })), ['LATCH_REQUEST_TIMEOUT_MS'], bad);
  });

  it('takes LATCH_RATE_LIMIT=0 (off) and a window of a second to a day', () => {
    assert.deepEqual(loadConfig(env({ LATCH_RATE_LIMIT: '0', LATCH_RATE_LIMIT_WINDOW: '86400' })).rateLimit, { max: 0, windowSeconds: 86_400 });
    assert.deepEqual(problemsOf(env({ LATCH_RATE_LIMIT: '-1', LATCH_RATE_LIMIT_WINDOW: '0' })), ['LATCH_RATE_LIMIT', 'LATCH_RATE_LIMIT_WINDOW']);
    assert.deepEqual(problemsOf(env({ LATCH_RATE_LIMIT: '1000001', LATCH_RATE_LIMIT_WINDOW: '86401' })), ['LATCH_RATE_LIMIT', 'LATCH_RATE_LIMIT_WINDOW']);
  });

  it('takes header limits from 4 KiB to 256 KiB and body limits from 1 KiB to 1 GiB', () => {
    const c = loadConfig(env({ LATCH_MAX_HEADER_BYTES: '4096', LATCH_MAX_BODY_BYTES: '1073741824' }));
    assert.deepEqual([c.maxHeaderBytes, c.maxBodyBytes], [4096, 1_073_741_824]);
    assert.deepEqual(problemsOf(env({ LATCH_MAX_HEADER_BYTES: '4095', LATCH_MAX_BODY_BYTES: '1023' })), ['LATCH_MAX_HEADER_BYTES', 'LATCH_MAX_BODY_BYTES']);
    assert.deepEqual(problemsOf(env({ LATCH_MAX_HEADER_BYTES: '262145', LATCH_MAX_BODY_BYTES: '1.5' })), ['LATCH_MAX_HEADER_BYTES', 'LATCH_MAX_BODY_BYTES']);
  });
});

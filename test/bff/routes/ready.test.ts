/**
 * GET /readyz (bff/routes/ready.ts), answered in memory: ready once a real oidc-provider's discovery and
 * keys load, not ready while the server cannot be reached, its keys cannot be loaded, or an extra check
 * fails. What /readyz does with a key set that rotates: test/security/key-rotation.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBff } from '../../../bff/app.ts';
import { LatchError } from '../../../bff/errors.ts';
import type { Provider } from '../../../bff/providers/provider.ts';
import { memoryBff } from '../../helpers/bff.ts';
import { inMemory } from '../../helpers/in-memory.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { freePort } from '../../helpers/net.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';

describe('GET /readyz', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('answers 200 once discovery and the JWKS load', async () => {
    const res = await inMemory(stack.app).fetch('/readyz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ready: true, checks: { provider: 'ok' } });
  });

  it('answers 503 while the authorization server cannot be reached; /healthz stays 200', async () => {
    const port = await freePort(); // nothing listens there
    const bff = memoryBff({ LATCH_ISSUER: `http://127.0.0.1:${port}` });
    const res = await bff.fetch('/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { ready: false, checks: { provider: 'LATCH_UPSTREAM_UNAVAILABLE' } });
    assert.equal((await bff.fetch('/healthz')).status, 200);
    assert.match(bff.logs.join(''), /not ready/);
  });

  it('answers 503 while the JWKS cannot be loaded, even with discovery working', async () => {
    const broken: Provider = {
      ...({} as Provider),
      kind: 'test',
      ready: () => Promise.reject(new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'jwks down' })),
    };
    const app = createBff(stack.config, { logger: captureLogs().logger, provider: broken });
    const res = await inMemory(app).fetch('/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(((await res.json()) as { checks: unknown }).checks, { provider: 'LATCH_UPSTREAM_ERROR' });
  });

  it('waits for extra checks too (e.g. a configured Redis), given at creation or added later', async () => {
    let redisUp = false;
    const app = createBff(stack.config, {
      logger: captureLogs().logger,
      readiness: [{ name: 'redis', check: async () => { if (!redisUp) throw new LatchError('LATCH_STORE_UNAVAILABLE', { detail: 'down' }); } }],
    });
    const { fetch } = inMemory(app);
    let res = await fetch('/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(((await res.json()) as { checks: unknown }).checks, { provider: 'ok', redis: 'LATCH_STORE_UNAVAILABLE' });
    redisUp = true;
    res = await fetch('/readyz');
    assert.equal(res.status, 200);
    app.latch.readiness!.push({ name: 'late', check: () => new Promise(() => {}) });
    res = await fetch('/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(((await res.json()) as { checks: unknown }).checks, { provider: 'ok', redis: 'ok', late: 'timeout' });
  });
});

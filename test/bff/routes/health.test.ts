/** GET /healthz (bff/routes/health.ts), answered in memory. Readiness: ready.test.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryBff } from '../../helpers/bff.ts';

describe('GET /healthz', () => {
  const bff = memoryBff();

  it('answers /healthz', async () => {
    const res = await bff.fetch('/healthz');
    assert.equal(res.status, 200);
  });
});

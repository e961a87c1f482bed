/** The metrics (bff/metrics.ts `createMetrics`) as a plain object. Served: routes/metrics.test.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../bff/metrics.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createMetrics', () => {
  it('counts a failed refresh as a failure', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeOutbound('refresh', 12, false);
    await sleep(10); // prom-client loads on first use
    assert.match(await (await metrics.registry()).metrics(), /latch_token_refreshes_total\{result="failure"\} 1/);
  });
});

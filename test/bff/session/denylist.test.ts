/** The deny-list (bff/session/denylist.ts) over the memory store. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DenyList } from '../../../bff/session/denylist.ts';
import { MemoryStore } from '../../../bff/session/stores/memory.ts';

describe('DenyList', () => {
  it('keeps the latest time for a subject', async () => {
    const store = new MemoryStore();
    const d = new DenyList(store, { retentionMs: 60_000, skewMs: 0 });
    await d.denySubject('u', 2000);
    await d.denySubject('u', 1000);
    assert.equal(await d.isDenied({ sid: 's', sub: 'u', iat: 1500 }), true);
    assert.equal(await d.isDenied({ sid: 's', sub: 'u', iat: 2500 }), false);
  });
});

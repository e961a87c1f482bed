/**
 * Session cookie chunks (bff/session/cookies.ts): a sealed session longer than one cookie holds is
 * split into numbered cookies and joined on read; incomplete, foreign or oversized sets are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHUNK_BYTES, joinChunks, MAX_CHUNKS, splitChunks } from '../../../bff/session/cookies.ts';

describe('session cookie chunks', () => {
  it('keeps a short value whole and numbers the parts of a long one', () => {
    assert.deepEqual(splitChunks('Fe26.2*abc'), ['Fe26.2*abc']);
    const long = 'x'.repeat(CHUNK_BYTES * 2 + 10);
    const parts = splitChunks(long)!;
    assert.equal(parts.length, 3);
    assert.ok(parts[0]!.startsWith('3.'));
    assert.equal(joinChunks({ latch: parts[0]!, 'latch.1': parts[1]!, 'latch.2': parts[2]! }, 'latch'), long);
  });

  it('refuses more than MAX_CHUNKS parts, and incomplete or foreign sets on read', () => {
    assert.equal(splitChunks('x'.repeat(CHUNK_BYTES * MAX_CHUNKS + 1)), null);
    assert.equal(joinChunks({ latch: '3.abc', 'latch.1': 'd' }, 'latch'), null);
    assert.equal(joinChunks({ latch: '9.abc' }, 'latch'), null);
    assert.equal(joinChunks({ 'latch.1': 'abc' }, 'latch'), null);
    // A leftover chunk from an earlier, larger session is not glued on.
    assert.equal(joinChunks({ latch: '2.ab', 'latch.1': 'cd', 'latch.2': 'zz' }, 'latch'), 'abcd');
  });
});

/**
 * The edge's security checks (bff/middleware/security.ts), answered in memory. Black-box, with real
 * sessions: test/security/defences.test.ts (CSRF, CORS, security headers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryBff } from '../../helpers/bff.ts';

describe('CORS', () => {
  const bff = memoryBff();

  it('gives other origins no CORS headers', async () => {
    const res = await bff.fetch('/me', { headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});

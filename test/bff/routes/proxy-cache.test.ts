/** The proxy's Cache-Control rule (bff/routes/proxy-cache.ts) as a plain function; on the wire: proxy-stream.test.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxyCacheControl } from '../../../bff/routes/proxy-cache.ts';

describe('proxyCacheControl', () => {
  it('never lets an answer to an authorised request be public', () => {
    const cases: Array<[string, number, string | string[] | undefined, string | undefined]> = [
      ['GET', 200, 'public, max-age=60', 'private, max-age=60'],
      ['GET', 200, 'PUBLIC,S-MAXAGE=9,max-age=1', 'private, max-age=1'],
      ['GET', 200, 's-maxage=600', undefined],
      ['GET', 200, 'public', undefined],
      ['GET', 200, 'max-age=60, stale-while-revalidate=30', 'private, max-age=60, stale-while-revalidate=30'],
      ['GET', 200, 'no-cache', 'private, no-cache'],
      ['GET', 200, 'no-store, max-age=5', 'no-store, max-age=5'],
      ['GET', 200, 'private="x-a, x-b", max-age=5', 'private, max-age=5'],
      ['GET', 200, ['public', 'max-age=5'], 'private, max-age=5'],
      ['GET', 206, 'immutable, max-age=31536000', 'private, immutable, max-age=31536000'],
      ['POST', 200, 'max-age=60', undefined],
      ['DELETE', 200, 'max-age=60', undefined],
      ['GET', 401, 'max-age=60', undefined],
      ['GET', 302, 'max-age=60', undefined],
      ['GET', 200, undefined, undefined],
      ['GET', 200, 'max-age=1; public', undefined],
      ['GET', 200, `max-age=1, ${'x'.repeat(2000)}`, undefined],
    ];
    for (const [method, status, value, expected] of cases) assert.equal(proxyCacheControl(method, status, value), expected, `${method} ${status} ${String(value)}`);
  });
});

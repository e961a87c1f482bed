/**
 * The Redis store's outage log (bff/session/stores/redis.ts `OutageLog`) as a plain object, on a clock
 * of its own. The store against a real redis-server, across instances: redis-instances.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutageLog } from '../../../../bff/session/stores/redis.ts';

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

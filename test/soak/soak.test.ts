/**
 * The soak's short form, in CI: the built BFF (dist/bff/server.js, as `npm test` builds it) under
 * about a minute of the same mixed load as `npm run soak` (bench/lib/soak-run.ts, docs/bench.md
 * "Soak"), with the same checks: no 5xx, heap and RSS after a full GC within 10% of what they were
 * after the warm-up, nothing left open once the clients are gone, every answer as its request must
 * get, and every part of the mix (sign-ins, refreshes, logouts, back-channel logouts, bad input)
 * really run. The load is lighter than the full soak's (12 users, 80 steps/s), as CI runs the suite
 * on two Nodes at once on 2 cores.
 *
 * LATCH_SOAK_BUNDLE soaks another build of the server (e.g. a copy with a leak put in on purpose,
 * to see this test fail).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { runSoak } from '../../bench/lib/soak-run.ts';
import { renderText } from '../../bench/lib/soak-report.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const bundle = process.env['LATCH_SOAK_BUNDLE'] ?? join(ROOT, 'dist/bff/server.js');

describe('soak, short form', () => {
  it('a minute of mixed load: no 5xx, heap and RSS within 10% after warm-up, no handle left open, every answer as expected', async (t) => {
    const logDir = mkdtempSync(join(tmpdir(), 'latch-soak-test-'));
    const report = await runSoak({ bundle, minutes: 1, users: 12, rate: 80, logDir, log: (m) => t.diagnostic(m) });
    for (const line of renderText(report).split('\n')) t.diagnostic(line);
    const failed = report.checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.detail}`);
    assert.deepEqual(failed, [], `the BFF's log: ${join(logDir, 'bff.log')}`);
    // The checks above are the soak's own; these make sure they judged a run that happened.
    assert.equal(report.checkpoints.length, 2);
    assert.ok(report.bffAnswers > 1000, `${report.bffAnswers} answers`);
    assert.ok(report.samples.filter((s) => s.phase === 'load').length >= 10, 'samples over the load phase');
    rmSync(logDir, { recursive: true, force: true });
  });
});

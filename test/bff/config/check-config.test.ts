/**
 * `latch-bff --check-config` prints what it printed before the configuration was cut into sections:
 * each environment of check-config-cases.ts is run through bff/cli.ts and compared with
 * check-config.golden.json, recorded once from the single-function loadConfig (commit d49f7ea).
 * Never re-record it: it is the "before".
 *
 * Where the output differs, DEPARTURES says how and why, and the test checks that the difference
 * is that and nothing else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { CASES, checkEveryCase, type CheckConfigRun } from './check-config-cases.ts';

const GOLDEN = JSON.parse(readFileSync(new URL('./check-config.golden.json', import.meta.url), 'utf8')) as Record<string, CheckConfigRun>;

/**
 * How a case's output departs from the recording. `regrouped`: the same problem lines, now grouped by
 * section (provider, sites, sessions, API routes, limits, operations) where the single function
 * interleaved them in the order it happened to read them. `added`: lines the sections add.
 * `replaced`: a line that now says something else, [then, now].
 */
const DEPARTURES: Record<string, { regrouped?: true; added?: string[]; replaced?: Array<[string, string]> }> = {
  'nothing set': { regrouped: true },
  'problems in every section at once': { regrouped: true },
  // The single function said "lists no site" only when nothing at all had been found before it, so
  // a missing LATCH_CLIENT_ID hid it until the next run. The sites section asks about its own
  // problems only: every problem at once.
  'LATCH_SITES with no site, and a missing client id': { added: ['  LATCH_SITES: lists no site'] },
  // Issue 18, a token per API: an audience on a user route is allowed now (oauth/audience.ts); the
  // case's user route has a wrong _TOKEN_EXCHANGE instead, so that it still has one problem.
  'API route problems': {
    replaced: [[
      '  LATCH_API_ROUTE_USER_AUDIENCE: applies to service routes only: a user token carries the audience it gets at sign-in (a default at the authorization server, or LATCH_AUTHORIZE_PARAMS=audience=… / resource=…)',
      '  LATCH_API_ROUTE_USER_TOKEN_EXCHANGE: must be rfc8707 or rfc8693, got "rfc9999"',
    ]],
  },
};

/** The problem lines of a refused configuration (two spaces, a variable, a colon). */
const problemLines = (stderr: string) => stderr.split('\n').filter((line) => /^ {2}\S+: /.test(line));
const otherLines = (stderr: string) => stderr.split('\n').filter((line) => !/^ {2}\S+: /.test(line) && !/^\d+ problems?: /.test(line));

describe('latch-bff --check-config: the same output as before the sections', () => {
  let runs: Record<string, CheckConfigRun>;
  before(async () => {
    runs = await checkEveryCase();
  });

  it('has a recording for every case, and a case for every recording', () => {
    assert.deepEqual(Object.keys(CASES), Object.keys(GOLDEN));
  });

  for (const name of Object.keys(CASES)) {
    const departure = DEPARTURES[name];
    it(departure ? `${name}: the same problems, departing only as declared` : `${name}: the same, to the byte`, () => {
      const now = runs[name]!;
      const then = GOLDEN[name]!;
      assert.equal(now.status, then.status);
      assert.equal(now.stdout, then.stdout);
      if (!departure) return assert.equal(now.stderr, then.stderr);
      assert.notEqual(now.stderr, then.stderr, 'declared as a departure, but the output is the same: remove it from DEPARTURES');
      assert.deepEqual(otherLines(now.stderr), otherLines(then.stderr));
      const replaced = new Map(departure.replaced);
      const expected = [...problemLines(then.stderr).map((line) => replaced.get(line) ?? line), ...(departure.added ?? [])];
      assert.deepEqual([...problemLines(now.stderr)].sort(), [...expected].sort());
      if (!departure.regrouped) assert.deepEqual(problemLines(now.stderr), expected, 'only added, in the old order');
      assert.match(now.stderr, new RegExp(`\\n${expected.length} problems?: nothing was started\\.\\n$`));
    });
  }
});

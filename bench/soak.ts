/**
 * `npm run soak`: the BFF under a steady mixed load for 10 minutes, watched for what must not
 * happen over time: a 5xx, memory that keeps growing, handles that stay open (bench/lib/soak-run.ts;
 * docs/bench.md, "Soak").
 *
 *   npm run soak                        10 minutes; writes bench/results/soak.{json,md,svg} and the
 *                                       soak section of docs/bench.md
 *   npm run soak -- --minutes 1         a shorter run (also LATCH_SOAK_MINUTES=1); results go to a temp
 *                                       folder unless --out says where
 *   npm run soak -- --users 24 --rate 150 --out DIR --bundle PATH
 *
 * The BFF runs from its production bundle, built here from the current source into a temp folder
 * (dist/ is left alone), unless --bundle names one (e.g. dist/bff/server.js). Exits 0 when every
 * check passes, 1 when one fails or the soak could not run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBff } from '../scripts/build-bff.ts';
import { gitDescribe, replaceBetweenMarkers } from './lib/results.ts';
import { runSoak } from './lib/soak-run.ts';
import { renderMarkdown, renderSvg, renderText } from './lib/soak-report.ts';

const ROOT = resolve(import.meta.dirname, '..');
const FULL_MINUTES = 10;

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string' },
    users: { type: 'string' },
    rate: { type: 'string' },
    out: { type: 'string' },
    bundle: { type: 'string' },
  },
});

const number = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
  return value;
};

const log = (msg: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function main(): Promise<void> {
  const minutes = number('minutes', args.minutes ?? process.env['LATCH_SOAK_MINUTES']) ?? FULL_MINUTES;
  const users = number('users', args.users);
  const rate = number('rate', args.rate);
  // Only the full run, with the default load, is the one docs/bench.md shows.
  const full = minutes >= FULL_MINUTES && users === undefined && rate === undefined && args.bundle === undefined;
  const outDir = args.out ? resolve(args.out) : full ? join(ROOT, 'bench/results') : mkdtempSync(join(tmpdir(), 'latch-soak-'));
  const workDir = mkdtempSync(join(tmpdir(), 'latch-soak-work-'));
  let bundle = args.bundle ? resolve(args.bundle) : undefined;
  let failed = true;
  try {
    if (!bundle) {
      log('building the BFF bundles into a temp folder');
      await buildBff({ outdir: join(workDir, 'bff') });
      bundle = join(workDir, 'bff/server.js');
    }
    const report = await runSoak({ bundle, minutes, ...(users ? { users } : {}), ...(rate ? { rate } : {}), logDir: workDir, log });
    report.commit = gitDescribe(ROOT);
    process.stdout.write(`\n${renderText(report)}\n`);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(outDir, 'soak.svg'), renderSvg(report));
    writeFileSync(join(outDir, 'soak.md'), renderMarkdown(report, { chart: 'soak.svg' }));
    if (full && !args.out) replaceBetweenMarkers(join(ROOT, 'docs/bench.md'), 'soak:latest', renderMarkdown(report, { chart: '../bench/results/soak.svg' }));
    log(`results: ${join(outDir, 'soak.json')}, soak.md and soak.svg`);
    failed = !report.pass;
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    log(`the BFF's log: ${join(workDir, 'bff.log')}`);
  } finally {
    if (!failed) rmSync(workDir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

await main();

/**
 * The body of `npm test` (after typecheck and build):
 *   1. test/**\/*.test.ts except test/widget/** with Node's test runner;
 *   2. test/widget/**\/*.test.ts in Chromium with @web/test-runner (web-test-runner.config.mjs).
 *
 *   node --import tsx scripts/test.ts [filter…]   only files whose path contains a filter
 *   npm test -- proxy                             the same, after typecheck and build
 *   node --import tsx scripts/test.ts --no-widget leaves out step 2, for a second run of the suite on
 *                                                 another Node (.ci/run): the component tests run the
 *                                                 widget in Chromium, so the Node that serves them
 *                                                 changes nothing; one run is enough
 *
 * Environment: LATCH_TEST_CONCURRENCY (node:test files in parallel, default 2),
 * LATCH_TEST_TIMEOUT (ms per test file, default 300000: node:test runs each file as one test of its own,
 * so this bounds a whole file; the slowest take about 40 s alone and three times that on a loaded
 * 2-core machine running Node 20 and 24 side by side), CI=true (a missing browser fails the run).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumAvailable, CHROMIUM_PATH } from '../test/helpers/browser.ts';
import { isCI } from '../test/helpers/net.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const noWidget = process.argv.includes('--no-widget');
const filters = process.argv.slice(2).filter((arg) => arg !== '--' && arg !== '--no-widget');

function testFiles(): string[] {
  const dir = join(root, 'test');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((file) => `test/${file.split('\\').join('/')}`)
    .filter((file) => file.endsWith('.test.ts') && !file.includes('/node_modules/'))
    .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
    .sort();
}

function run(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.once('error', (err) => {
      console.error(err);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function files(n: number): string {
  return `${n} ${n === 1 ? 'file' : 'files'}`;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)}s`;
}

const all = testFiles();
const isWidget = (file: string) => file.startsWith('test/widget/');
const nodeFiles = all.filter((file) => !isWidget(file));
const widgetFiles = noWidget ? [] : all.filter(isWidget);

if (nodeFiles.length + widgetFiles.length === 0) {
  console.error(`No test files${filters.length ? ` match ${filters.map((f) => `"${f}"`).join(', ')}` : ''}${noWidget ? ' outside test/widget/' : ''}.`);
  process.exit(1);
}

const results: string[] = [`node ${process.version}`];
let exitCode = 0;

if (nodeFiles.length > 0) {
  const started = performance.now();
  const code = await run([
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-timeout=${process.env.LATCH_TEST_TIMEOUT ?? 300_000}`,
    `--test-concurrency=${process.env.LATCH_TEST_CONCURRENCY ?? 2}`,
    ...nodeFiles,
  ]);
  results.push(`node:test ${code === 0 ? 'passed' : `FAILED (exit ${code})`} — ${files(nodeFiles.length)}, ${seconds(started)}`);
  if (code !== 0) exitCode = code;
}

if (widgetFiles.length > 0) {
  const wtr = join(root, 'node_modules/@web/test-runner/dist/bin.js');
  if (!chromiumAvailable()) {
    const message = `component tests need Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set LATCH_CHROMIUM)`;
    if (isCI()) {
      results.push(`widget FAILED — ${message}`);
      exitCode ||= 1;
    } else {
      console.warn(`\n${'!'.repeat(78)}\n!! SKIPPED: ${message}\n${'!'.repeat(78)}\n`);
      results.push(`widget SKIPPED — ${files(widgetFiles.length)}: no Chromium`);
    }
  } else {
    const started = performance.now();
    const code = await run([wtr, '--config', 'web-test-runner.config.mjs', '--files', ...widgetFiles]);
    results.push(`widget ${code === 0 ? 'passed' : `FAILED (exit ${code})`} — ${files(widgetFiles.length)}, ${seconds(started)}`);
    if (code !== 0) exitCode ||= code;
  }
} else if (noWidget) {
  results.push('widget not run here (--no-widget)');
}

console.log(`\n${exitCode === 0 ? 'TESTS PASSED' : 'TESTS FAILED'}: ${results.join('; ')}`);
process.exit(exitCode);

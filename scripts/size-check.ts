/**
 * Prints raw, gzip and brotli sizes of the widget's bundles and fails above
 * the budget: dist/latch.iife.js (the whole widget, English included) must be
 * at most 9 KB (9 × 1024 bytes) brotli. Run after `npm run build:widget`:
 *
 *   node --import tsx scripts/size-check.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const BUDGET = 9 * 1024;
const dist = join(import.meta.dirname, '..', 'dist');
const files = ['latch.iife.js', 'latch.js', 'latch-de.js', 'latch-fr.js', 'latch-es.js', 'latch-password.js', 'latch-handoff.js', 'latch-diagnose.js'];

const brotli = (b: Buffer) =>
  brotliCompressSync(b, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
  }).length;

let failed = false;
console.log('file'.padEnd(20) + 'raw'.padStart(8) + 'gzip'.padStart(8) + 'brotli'.padStart(8));
for (const name of files) {
  const path = join(dist, name);
  if (!existsSync(path)) {
    console.error(`${name}: missing (run npm run build:widget first)`);
    failed = true;
    continue;
  }
  const b = readFileSync(path);
  const br = brotli(b);
  const over = name == 'latch.iife.js' && br > BUDGET;
  failed ||= over;
  console.log(
    name.padEnd(20) +
      String(b.length).padStart(8) +
      String(gzipSync(b, { level: 9 }).length).padStart(8) +
      String(br).padStart(8) +
      (name == 'latch.iife.js' ? `  (budget ${BUDGET} brotli: ${over ? 'OVER' : 'ok'}, ${BUDGET - br} left)` : ''),
  );
}
process.exit(failed ? 1 : 0);

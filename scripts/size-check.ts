/**
 * Prints raw, gzip and brotli sizes of the widget's files and fails above the budget: each main
 * bundle, dist/latch.iife.js and dist/latch.js (the whole first paint, English included, Lit bundled
 * in), must be at most 8.5 KB (8,704 bytes) brotli, however many features land in chunks. Every chunk
 * (a module of widget/chunks/, built as dist/latch-<name>.js and loaded only when a page needs it) is
 * listed with its sizes too, and one that is missing fails. Run after `npm run build:widget`:
 *
 *   node --import tsx scripts/size-check.ts
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** Issue 20's target for each main bundle: 8.5 KB brotli. */
export const BUDGET = 8704;
const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const mains = ['latch.iife.js', 'latch.js'];
const chunks = readdirSync(join(root, 'widget', 'chunks'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => `latch-${f.slice(0, -3)}.js`)
  .sort();

const brotli = (b: Buffer) =>
  brotliCompressSync(b, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
  }).length;

let failed = false;
console.log('file'.padEnd(22) + 'raw'.padStart(8) + 'gzip'.padStart(8) + 'brotli'.padStart(8));
for (const name of [...mains, ...chunks]) {
  const path = join(dist, name);
  if (!existsSync(path)) {
    console.error(`${name}: missing (run npm run build:widget first)`);
    failed = true;
    continue;
  }
  const b = readFileSync(path);
  const br = brotli(b);
  const main = mains.includes(name);
  const over = main && br > BUDGET;
  failed ||= over;
  console.log(
    name.padEnd(22) +
      String(b.length).padStart(8) +
      String(gzipSync(b, { level: 9 }).length).padStart(8) +
      String(br).padStart(8) +
      (main ? `  (budget ${BUDGET} brotli: ${over ? 'OVER' : 'ok'}, ${BUDGET - br} left)` : '  chunk, loaded on demand'),
  );
}
process.exit(failed ? 1 : 0);

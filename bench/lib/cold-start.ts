/**
 * Lambda cold starts on a given node binary: test/deploy/cold-start.ts's measureColdStart() starts its
 * fresh processes with the node that runs it, so for another Node the bench runs this file on that
 * Node, which prints the runs as JSON:
 *
 *   <node> --import tsx bench/lib/cold-start.ts <bundle> <runs>
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { measureColdStart, type ColdStart } from '../../test/deploy/cold-start.ts';

export async function coldStartsOn(node: string, bundle: string, runs: number): Promise<ColdStart[]> {
  if (node === process.execPath) return measureColdStart({ bundle, runs });
  const { stdout } = await promisify(execFile)(node, ['--import', 'tsx', fileURLToPath(import.meta.url), bundle, String(runs)], {
    cwd: resolve(import.meta.dirname, '../..'),
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as ColdStart[];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await measureColdStart({ bundle: process.argv[2]!, runs: Number(process.argv[3]) })));
}

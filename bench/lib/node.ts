/**
 * `--node24`: a bench on Node 24 rather than on the Node that started it (this machine's is 20). The
 * bench runs itself again under scripts/node24.sh (Node 24 from the npm registry, fetched once into
 * .cache/node24/), with the same arguments, and exits with its code; every process it starts
 * (servers, cold-start runs) is then Node 24 too, as they all run `process.execPath`.
 *
 *   npm run bench -- --node24             results in bench/results/latest-node24.{json,md}
 *   npm run bench:in-process -- --node24
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';

export const NODE24 = process.argv.includes('--node24');

/** Runs this script again on Node 24 when `--node24` asks for it and this is not Node 24; returns otherwise. */
export async function runOnRequestedNode(): Promise<void> {
  if (!NODE24 || process.versions.node.split('.')[0] === '24') return;
  const script = join(resolve(import.meta.dirname, '../..'), 'scripts/node24.sh');
  const child = spawn('bash', [script, 'node', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  process.exit(code ?? (signal ? 1 : 0));
}

/**
 * The Node 24 binary (scripts/node24.sh fetches it from the npm registry once, into .cache/node24/),
 * for the servers a run measures on both Nodes side by side.
 */
export async function node24Binary(): Promise<string> {
  const script = join(resolve(import.meta.dirname, '../..'), 'scripts/node24.sh');
  const child = spawn('bash', [script, '--path'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0 || !out.trim()) throw new Error(`scripts/node24.sh --path failed (exit ${code})`);
  return out.trim();
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Demo {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  out(): string;
  siteUrl: string;
  bffUrl: string;
  login: string;
  password: string;
  /** Ctrl-C; resolves its exit code. */
  stop(): Promise<number | null>;
}

/**
 * `npm start` (dev/start.ts) as a newcomer runs it, with no configuration but free ports, waited
 * for until it prints its banner (60 s at most). Throws with what it printed when it does not.
 */
export async function startDemo(): Promise<Demo> {
  const [bff, site, provider] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/start.ts'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', PORT: String(bff), DEMO_SITE_PORT: String(site), DEMO_PROVIDER_PORT: String(provider) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = Date.now();
  while (!out.includes('Press Ctrl-C') && Date.now() - started < 60_000 && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const login = /Demo user:\s+(\S+)/.exec(out)?.[1];
  const password = /Password:\s+(\S+)/.exec(out)?.[1];
  if (!out.includes('Press Ctrl-C') || !login || !password) {
    child.kill('SIGKILL');
    throw new Error(`npm start did not print its banner with the demo user:\n${out}`);
  }
  return {
    child,
    out: () => out,
    siteUrl: `http://localhost:${site}/`,
    bffUrl: `http://localhost:${bff}`,
    login,
    password,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

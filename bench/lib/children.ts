/**
 * Servers under test run in their own node processes, so that their CPU and memory are theirs alone
 * and the load generator (this process) does not share their event loop. Every child binds 127.0.0.1
 * on a port chosen here, and is stopped by its own handle (SIGTERM, then SIGKILL), never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

export interface ChildServer {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** Where its stdout and stderr go. */
  log: string;
  /** Resident set size of the child process, bytes (Linux /proc; `ps` elsewhere). */
  rss(): Promise<number>;
  /** CPU time the child has used so far (user + system), ms; NaN where /proc is missing. */
  cpuMs(): number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface StartOptions {
  name: string;
  /** Arguments to node, e.g. ['--import', 'tsx', 'bench/servers/upstream.ts'] or ['/tmp/x/server.js']. */
  args: string[];
  port: number;
  env: Record<string, string>;
  /** Folder for the child's log file. */
  logDir: string;
  /** A path that answers once the server is up (any status). default '/' */
  readyPath?: string;
  cwd?: string;
  /** The node binary; default this process's (bench/lib/node.ts finds Node 24's). */
  node?: string;
}

export async function startChild(opts: StartOptions): Promise<ChildServer> {
  const log = join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(opts.node ?? process.execPath, opts.args, {
    cwd: opts.cwd,
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', ...opts.env, PORT: String(opts.port) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${opts.name} exited before it listened (code ${child.exitCode}):\n${tail(log)}`);
    }
    if (await answers(`${url}${opts.readyPath ?? '/'}`)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.name} did not answer on ${url} within 30 s:\n${tail(log)}`);
    }
    await sleep(50);
  }
  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    pid: child.pid!,
    port: opts.port,
    url,
    log,
    rss: () => rssOf(child.pid!),
    cpuMs: () => cpuMsOf(child.pid!),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '(no log)';
  }
}

async function rssOf(pid: number): Promise<number> {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: ask ps
  }
  const { execFileSync } = await import('node:child_process');
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
}

/** utime + stime from /proc/<pid>/stat (fields 14 and 15, in clock ticks: 100 a second on Linux). */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

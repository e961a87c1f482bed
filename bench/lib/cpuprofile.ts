/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. from `npm run bench -- --cpu-prof`): where the
 * process's CPU time went, by package and by function (self time), with each bundled frame traced back
 * to its source through the bundle's source map (server.js.map beside server.js).
 *
 *   node --import tsx bench/lib/cpuprofile.ts <file.cpuprofile> [--top=25] [--focus=<function name>]
 *
 * `--focus`: also the total time (self and below) under every frame whose function name matches that
 * regular expression, and what it is spent on, by package: e.g. `--focus='^exports2?\.unseal$'` for
 * the time @hapi/iron's unseal takes (an async function: each part after an await is its own frame).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  name: string;
  /** Source file, traced through the source map when there is one. */
  source: string;
  /** node_modules/<package>, bff/…, node:internal, or a V8 pseudo-frame ((garbage collector), (program)). */
  owner: string;
}

export interface Summary {
  /** Sampled time, ms, idle excluded. */
  totalMs: number;
  byOwner: Array<[string, number]>;
  byFunction: Array<[string, number]>;
  /** With `focus`: time under frames of the functions it matches, ms, and what it is spent on, by owner. */
  focus?: { totalMs: number; byOwner: Array<[string, number]> };
}

/** Who a source path belongs to: the package under node_modules, the repository's folder, or Node itself. */
export function ownerOf(source: string, functionName: string): string {
  if (!source) return functionName.startsWith('(') ? functionName : '(native)';
  if (source.startsWith('node:')) return `node: ${builtinPart(source)}`;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (m) return m[1]!;
  const own = /(?:^|\/)(bff|bench|dev|test|widget)\/(?:([^/]+)\/)?/.exec(source);
  if (own) return own[2] && !own[2].includes('.') ? `${own[1]}/${own[2]}/` : `${own[1]}/`;
  return source;
}

/** Node's own modules, in a few groups: where a request's time goes among them. */
function builtinPart(source: string): string {
  if (source.includes('/undici/')) return 'undici (fetch)';
  if (source.includes('/crypto/') || source === 'node:crypto') return 'crypto';
  if (/_http_|node:http/.test(source)) return 'http';
  if (/node:net|stream|node:internal\/streams/.test(source)) return 'net and streams';
  if (/modules|bootstrap|realm/.test(source)) return 'module loading';
  if (/task_queues|timers|async_hooks|promise/.test(source)) return 'event loop, promises';
  return 'other';
}

export function summarise(profile: Profile, frameOf: (frame: CallFrame) => Frame, options: { top?: number; focus?: string } = {}): Summary {
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const frames = new Map(profile.nodes.map((node) => [node.id, frameOf(node.callFrame)]));
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of self) {
    const frame = frames.get(id)!;
    if (frame.name === '(idle)') continue;
    totalMs += ms;
    add(owners, frame.owner, ms);
    add(functions, `${frame.name || '(anonymous)'}  ${frame.source}`, ms);
  }
  const top = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, options.top ?? 25);
  const summary: Summary = { totalMs, byOwner: top(owners), byFunction: top(functions) };
  if (options.focus) {
    const focus = new RegExp(options.focus);
    const focusOwners = new Map<string, number>();
    let focusMs = 0;
    // Every sample under a frame of the focused function, counted once however deep the recursion.
    const walk = (id: number, inside: boolean) => {
      const node = byId.get(id)!;
      const frame = frames.get(id)!;
      const now = inside || focus!.test(frame.name);
      if (now) {
        const ms = self.get(id) ?? 0;
        focusMs += ms;
        if (ms) add(focusOwners, frame.owner, ms);
      }
      for (const child of node.children ?? []) walk(child, now);
    };
    walk(profile.nodes[0]!.id, false);
    summary.focus = { totalMs: focusMs, byOwner: top(focusOwners) };
  }
  return summary;
}

/** Frames of bundled files traced through their source maps (`<file>.map`), when the map is there. */
function sourceMapped(): (frame: CallFrame) => Frame {
  const maps = new Map<string, TraceMap | null>();
  return (frame) => {
    let source = frame.url;
    if (frame.url.startsWith('file://')) {
      const file = fileURLToPath(frame.url);
      if (!maps.has(file)) maps.set(file, existsSync(`${file}.map`) ? new TraceMap(readFileSync(`${file}.map`, 'utf8')) : null);
      const map = maps.get(file);
      if (map) {
        const pos = originalPositionFor(map, { line: frame.lineNumber + 1, column: frame.columnNumber });
        source = pos.source ? resolve(dirname(file), pos.source) : file;
      } else source = file;
    }
    return { name: frame.functionName, source, owner: ownerOf(source, frame.functionName) };
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.on('error', () => process.exit(0)); // piped into head
  const file = process.argv[2];
  if (!file) throw new Error('usage: node --import tsx bench/lib/cpuprofile.ts <file.cpuprofile> [--top=25] [--focus=<function>]');
  const opt = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, sourceMapped(), { top: Number(opt('top') ?? 25), ...(opt('focus') ? { focus: opt('focus')! } : {}) });
  const pct = (ms: number) => `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)}%`;
  process.stdout.write(`${file}: ${summary.totalMs.toFixed(0)} ms sampled (idle excluded)\n\nself time by owner:\n`);
  for (const [owner, ms] of summary.byOwner) process.stdout.write(`${pct(ms)}  ${owner}\n`);
  process.stdout.write('\nself time by function:\n');
  for (const [fn, ms] of summary.byFunction) process.stdout.write(`${pct(ms)}  ${fn.replace(process.cwd() + '/', '')}\n`);
  if (summary.focus) {
    process.stdout.write(`\nunder ${opt('focus')}: ${pct(summary.focus.totalMs)}\n`);
    for (const [owner, ms] of summary.focus.byOwner) process.stdout.write(`${pct(ms)}  ${owner}\n`);
  }
}

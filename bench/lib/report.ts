/** The bench's tables: plain text for the terminal, markdown for bench/results/latest.md, docs/bench.md and the README. */
import type { BundleFile, VendorBundle } from './bundles.ts';
import type { SignInFigures } from './flows.ts';
import type { MemoryFigures } from './memory.ts';
import { percentile } from './stats.ts';

/** One target's figure on one Node. `pass` is null when there is nothing to judge (not measured, not built). */
export interface Figure {
  value: string;
  baseline: string;
  /** The ratio the target is about, where there is one. */
  ratio: number | null;
  pass: boolean | null;
}

export interface Target {
  id: string;
  figure: string;
  target: string;
  /** By Node label ("Node 20", "Node 24"); a figure that does not depend on Node is under the first only. */
  results: Record<string, Figure>;
}

export interface ThroughputRow {
  group: string;
  name: string;
  node: string;
  rps: number;
  /** CPU time per answer, µs: the server's, plus `extraCpuUs` of the process behind it (redis-server). */
  cpuUsPerRequest: number;
  extraCpuUs: number;
  extraName?: string;
  p50Ms: number;
  p99Ms: number;
  rounds: number[];
  /** The row (same group, same Node) this one is compared with. */
  baseline?: string;
}

export interface ColdStartFigures {
  node: string;
  medianTotalMs: number;
  minTotalMs: number;
  medianImportMs: number;
  medianFirstResponseMs: number;
  medianProcessMs: number;
  runs: Array<{ totalMs: number; importMs: number; firstResponseMs: number; processMs: number; status: number }>;
}

export interface BenchReport {
  date: string;
  quick: boolean;
  /** The sections run (all unless --only). */
  sections: string[];
  machine: { nodes: Record<string, string>; cpus: number; cpuModel: string; memoryGiB: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  commit: string;
  settings: Record<string, unknown> & { connections: number; duration: number; rounds: number; coldPerRound: number; cookieBytes: Record<string, number> };
  targets: Target[];
  throughput: ThroughputRow[];
  comparisons: Record<string, number>;
  signIn?: SignInFigures;
  refresh?: unknown;
  authorizationServerCallsDuringMeRuns: number;
  memory: MemoryFigures[];
  memoryBoundBytes: number;
  coldStart: ColdStartFigures[];
  widget: BundleFile[];
  vendors: VendorBundle[];
  seconds: number;
}

const x = (r: number | null) => (r === null || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`);
const n = (v: number) => Math.round(v).toLocaleString('en-US');
const kb = (b: number) => `${(b / 1024).toFixed(2)} KB`;
const mb = (b: number) => `${(b / 1_000_000).toFixed(1)} MB`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const verdict = (pass: boolean | null) => (pass === null ? '—' : pass ? 'PASS' : 'FAIL');

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function mdTable(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

type Format = (head: string[], rows: string[][]) => string;

const nodeLabels = (report: BenchReport) => Object.keys(report.machine.nodes);

function targetTable(report: BenchReport, format: Format): string {
  const nodes = nodeLabels(report);
  const head = ['figure', 'target', ...nodes.flatMap((node) => [`${node}: measured (baseline in the same run)`, 'ratio', 'result'])];
  const rows = report.targets.map((t) => [
    t.figure,
    t.target,
    ...nodes.flatMap((node) => {
      const f = t.results[node];
      return f ? [f.baseline === '—' ? f.value : `${f.value}; ${f.baseline}`, x(f.ratio), verdict(f.pass)] : ['—', '—', '—'];
    }),
  ]);
  return format(head, rows);
}

function throughputTable(report: BenchReport, format: Format): string | undefined {
  if (report.throughput.length === 0) return undefined;
  const rows = report.throughput.map((r) => {
    const base = r.baseline ? report.throughput.find((b) => b.group === r.group && b.node === r.node && b.name === r.baseline) : undefined;
    const cpu = r.extraName ? `${n(r.cpuUsPerRequest)} (${r.extraName} ${n(r.extraCpuUs)})` : n(r.cpuUsPerRequest);
    return [r.group, r.name, r.node, n(r.rps), base ? x(r.rps / base.rps) : '—', cpu, base ? x(base.cpuUsPerRequest / r.cpuUsPerRequest) : '—', `${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)}`, r.rounds.map(n).join(', ')];
  });
  return format(['run', 'server', 'node', 'req/s', 'ratio', 'CPU µs/answer', 'CPU ratio', 'p50 / p99 ms', 'per round req/s'], rows);
}

function signInTable(report: BenchReport, format: Format): string | undefined {
  const s = report.signIn;
  if (!s) return undefined;
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const us = (v: number) => `${n(v)} µs`;
  const row = (what: string, xs: readonly number[], unit: (v: number) => string) => [what, String(xs.length), unit(percentile(xs, 50)), unit(percentile(xs, 90)), unit(Math.max(...xs))];
  return format(['one sign-in at a time', 'samples', 'p50', 'p90', 'max'], [
    row('/login: BFF CPU', s.cpuUs['/login'] ?? [], us),
    row('/callback: BFF CPU', s.cpuUs['/callback'] ?? [], us),
    row('/callback: wall time at the client', s.callbackWallMs, ms),
    row('/callback: the authorization server answering', s.authorizationServerMs, ms),
    row('/callback: own time (wall − authorization server)', s.ownMs, ms),
  ]);
}

function memoryTable(report: BenchReport, format: Format): string | undefined {
  if (report.memory.length === 0) return undefined;
  const growth = (m: MemoryFigures, after: number) => `+${mib(after - m.heap.base)}`;
  return format(
    ['node', 'RSS at rest', 'RSS after the sessions', 'heap base', 'heap: distinct sessions', 'heap: largest sessions', 'heap: cookies that never open'],
    report.memory.map((m) => [m.node, mb(m.rssIdleBytes), `${mb(m.rssAfterBytes)} (${n(m.sessions)})`, mib(m.heap.base), growth(m, m.heap.afterDistinct), `${growth(m, m.heap.afterLarge)} (${n(m.largeSessions)} of ${n(m.largeCookieBytes)} B)`, `${growth(m, m.heap.afterHostile)} (${n(m.hostileCookies)})`]),
  );
}

function bundleTable(report: BenchReport, format: Format): string | undefined {
  if (report.widget.length === 0 && report.vendors.length === 0) return undefined;
  const latchMain = report.widget.find((f) => f.file === 'latch.iife.js')?.brotli ?? Number.NaN;
  const rows: string[][] = report.widget.map((f) => [`Latch ${f.file}`, '(this commit)', f.main ? 'main' : 'lazy', kb(f.raw), kb(f.gzip), kb(f.brotli), f.file === 'latch.iife.js' ? '1.00×' : '—', '']);
  for (const v of report.vendors) {
    const first = v.files.filter((f) => f.main);
    const lazy = v.files.filter((f) => !f.main);
    const sum = (fs: BundleFile[], pick: (f: BundleFile) => number) => fs.reduce((a, f) => a + pick(f), 0);
    rows.push([
      v.label, `${v.version}${v.stale ? ' (cached; registry unreachable)' : ''}`, first.length > 1 ? `first load (${first.length} files)` : 'first load',
      kb(sum(first, (f) => f.raw)), kb(sum(first, (f) => f.gzip)), kb(sum(first, (f) => f.brotli)), x(sum(first, (f) => f.brotli) / latchMain),
      lazy.length ? `+ ${lazy.length} lazy: ${kb(sum(lazy, (f) => f.brotli))} brotli` : '',
    ]);
  }
  return format(['bundle', 'version', 'part', 'raw', 'gzip', 'brotli', 'brotli ÷ Latch main', 'on demand'], rows);
}

function notes(report: BenchReport): string[] {
  const m = report.machine;
  const s = report.settings;
  const out = [
    `${report.date}, commit ${report.commit}; ${Object.entries(m.nodes).map(([label, v]) => `${label} = ${v}`).join(', ')}; ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB; load average before ${m.loadAverageBefore.join(' ')}, after ${m.loadAverageAfter.join(' ')}; ${Math.round(report.seconds / 60)} min in all.`,
    ...(report.sections.length ? [`Sections run: ${report.sections.join(', ')}.`] : []),
    `autocannon, ${s.connections} connections, ${s.rounds} interleaved round(s) of ${s.duration} s per server (each warmed up first); cold runs: ${s.rounds} round(s) of ${n(s.coldPerRound)} requests per server, each with its own never-seen session. The load generator and the servers share the machine's ${m.cpus} cores.`,
    'CPU µs/answer: the server process\'s CPU time (user + system, from /proc) per answer; CPU ratio: the baseline\'s ÷ this one\'s, the throughput ratio the two would show with a core each. The targets are on it: it is steadier than req/s on a busy machine.',
    ...(Object.keys(s.cookieBytes).length ? [`Session cookie sizes: ${Object.entries(s.cookieBytes).map(([k, v]) => `${k} ${n(v)} bytes`).join(', ')} (the same session: JWT access token, ID token, refresh token).`] : []),
    `Calls that reached the authorization server during the /me runs: ${report.authorizationServerCallsDuringMeRuns}.`,
    ...report.coldStart.map((c) => `Lambda cold start, ${c.node}, medians of ${c.runs.length} processes: import ${c.medianImportMs.toFixed(0)} ms + first /me ${c.medianFirstResponseMs.toFixed(0)} ms = ${c.medianTotalMs.toFixed(0)} ms (fastest ${c.minTotalMs.toFixed(0)} ms; with node's own start-up ${c.medianProcessMs.toFixed(0)} ms).`),
    ...(report.signIn ? [`Sign-ins: ${report.signIn.signIns}, one at a time, each through the dev provider's login form; the authorization server's answers during the /callbacks: ${Object.entries(report.signIn.authorizationServerCalls).map(([p, c]) => `${p} ${c}`).join(', ')}; BFF CPU from /proc per sign-in (its /login, its /callback, and whatever else ran): ${report.signIn.procCpuMsPerSignIn.toFixed(2)} ms; requests the probe could not time alone: ${report.signIn.overlapped}.`] : []),
    ...(report.memory.length ? [`Memory: the seal cache's bound is ${mib(report.memoryBoundBytes)} as it counts bytes; heap figures after full collections, less the base (the same cookie 500 times).`] : []),
    ...Object.entries(report.comparisons).map(([k, v]) => `${k}: ${x(v)}`),
  ];
  return out;
}

function vendorEntries(report: BenchReport): string[] {
  const out: string[] = [];
  for (const v of report.vendors) {
    out.push(`**${v.label}** (${v.pkg}@${v.version}, esbuild ${v.esbuild}, measured ${v.measuredAt.slice(0, 10)}): ${v.note}.`, '');
    if (v.entry.startsWith('prebuilt:')) out.push(`The file \`${v.entry.slice('prebuilt: '.length)}\` of the package, as it is.`, '');
    else out.push('```js', v.entry.trim(), '```', '');
  }
  return out;
}

const passed = (report: BenchReport) =>
  nodeLabels(report)
    .map((node) => {
      const judged = report.targets.map((t) => t.results[node]?.pass).filter((p): p is boolean => p !== null && p !== undefined);
      return `${node}: ${judged.filter(Boolean).length}/${judged.length} targets pass`;
    })
    .join('; ');

function render(report: BenchReport, format: Format, title: string, opts: { entries: boolean; footer: string[] }): string {
  const section = (heading: string, body: string | undefined) => (body ? [heading, '', body, ''] : []);
  const md = format === mdTable;
  const h = (s: string) => (md ? `#### ${s}` : `${s}:`);
  return [
    title,
    '',
    targetTable(report, format),
    '',
    ...section(h('Throughput and CPU'), throughputTable(report, format)),
    ...section(h('Sign-in'), signInTable(report, format)),
    ...section(h('Memory'), memoryTable(report, format)),
    ...section(h('Bundles (brotli, KB = 1024 bytes)'), bundleTable(report, format)),
    ...notes(report).map((l) => `- ${l}`),
    ...(opts.entries && report.vendors.length ? ['', h('The entries the vendor bundles were measured with'), '', ...vendorEntries(report)] : []),
    ...opts.footer,
    '',
  ].join('\n');
}

export function renderText(report: BenchReport): string {
  return `\n${render(report, table, `Latch bench${report.quick ? ' (--quick: not comparable with full runs)' : ''}: ${passed(report)}`, { entries: false, footer: [] })}`;
}

/** The targets table alone, with the run's date, commit and load (the README shows it). */
export function renderTargetsMarkdown(report: BenchReport): string {
  const m = report.machine;
  return [
    targetTable(report, mdTable),
    '',
    `${passed(report)}; ${report.date.slice(0, 10)}, commit ${report.commit}, load average ${m.loadAverageBefore[0]} before and ${m.loadAverageAfter[0]} after; ${Math.round(report.seconds / 60)} min.`,
    '',
  ].join('\n');
}

export function renderMarkdown(report: BenchReport, opts: { footer?: boolean } = {}): string {
  const footer = opts.footer === false ? [] : ['', 'Generated by `npm run bench` (bench/run.ts); what each figure means: [docs/bench.md](../../docs/bench.md).'];
  return render(report, mdTable, `### Latest bench: ${passed(report)}`, { entries: true, footer });
}

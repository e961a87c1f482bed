/** The bench's tables: plain text for the terminal, markdown for bench/results/latest.md and docs/bench.md. */

export interface Target {
  id: string;
  figure: string;
  value: string;
  baseline: string;
  /** value ÷ baseline, where that means something. */
  ratio: number | null;
  target: string;
  pass: boolean;
}

interface ThroughputRow {
  name: string;
  rps: number;
  /** The server's CPU time per answer, µs. */
  cpuUsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  rounds: number[];
}

export interface BenchReport {
  date: string;
  quick: boolean;
  machine: { node: string; cpus: number; cpuModel: string; memoryGiB: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  commit: string;
  settings: Record<string, unknown> & { connections: number; duration: number; rounds: number; sessions: number; coldPerRound: number; cookieBytes: { bff: number; expressOpenidConnect: number } };
  targets: Target[];
  throughput: { meWarm: ThroughputRow[]; meCold: ThroughputRow[]; proxy: ThroughputRow[]; extraRatios: Record<string, number> };
  refresh: unknown;
  authorizationServerCallsDuringMeRuns: number;
  memory: { sessions: number; rssIdleBytes: number; rssAfterBytes: number; run: unknown };
  coldStart: { medianTotalMs: number; minTotalMs: number; medianImportMs: number; medianFirstResponseMs: number; medianProcessMs: number; runs: unknown[] };
  widget: { raw: number; gzip: number; brotli: number; budgetBrotli: number; referenceSdksBrotliKBQuoted: Record<string, number> };
  seconds: number;
}

const x = (r: number | null) => (r === null ? '—' : `${r.toFixed(2)}×`);
const n = (v: number) => Math.round(v).toLocaleString('en-US');

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function mdTable(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function targetRows(report: BenchReport): string[][] {
  return report.targets.map((t) => [t.figure, t.value, t.baseline, x(t.ratio), t.target, t.pass ? 'PASS' : 'FAIL']);
}

function throughputRows(report: BenchReport): string[][] {
  const rows: string[][] = [];
  const add = (group: string, list: ThroughputRow[], base: ThroughputRow | undefined) => {
    for (const r of list) {
      rows.push([group, r.name, n(r.rps), base ? x(r.rps / base.rps) : '—', n(r.cpuUsPerRequest), base ? x(base.cpuUsPerRequest / r.cpuUsPerRequest) : '—', `${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)}`, r.rounds.map(n).join(', ')]);
    }
  };
  const t = report.throughput;
  add('/me warm', t.meWarm, t.meWarm.find((r) => r.name === 'bare Koa'));
  add('/me cold', t.meCold, t.meCold.find((r) => r.name === 'express-openid-connect'));
  add('proxy', t.proxy, t.proxy.find((r) => r.name === 'no-auth proxy'));
  return rows;
}

const THROUGHPUT_HEAD = ['run', 'server', 'req/s', 'ratio', 'server CPU µs/req', 'CPU ratio', 'p50 / p99 ms', 'per round req/s'];

function widgetRows(report: BenchReport): string[][] {
  const w = report.widget;
  const kb = (b: number) => `${(b / 1024).toFixed(2)} KB`;
  return [
    ['Latch widget (dist/latch.iife.js), measured', kb(w.raw), kb(w.gzip), kb(w.brotli), '1.00×'],
    ...Object.entries(w.referenceSdksBrotliKBQuoted).map(([name, brotliKb]) => [`${name}, quoted (issue 3), not measured`, '—', '—', `${brotliKb} KB`, `${(brotliKb / (w.brotli / 1024)).toFixed(1)}×`]),
  ];
}

const WIDGET_HEAD = ['bundle', 'raw', 'gzip', 'brotli', 'brotli ÷ Latch'];

function notes(report: BenchReport): string[] {
  const m = report.machine;
  const c = report.coldStart;
  const s = report.settings;
  return [
    `${report.date}, commit ${report.commit}; node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB; load average before ${m.loadAverageBefore.join(' ')}, after ${m.loadAverageAfter.join(' ')}.`,
    `autocannon, ${s.connections} connections, ${s.rounds} interleaved round(s) of ${s.duration} s per server (each warmed up first); cold runs: ${s.rounds} round(s) of ${n(s.coldPerRound)} requests per server, each with its own never-seen session. The load generator and the server under test share the machine's ${m.cpus} cores.`,
    'CPU ratio: the baseline\'s server CPU time per answer ÷ this server\'s, read from /proc for the server process alone; the throughput ratio the two would show if the server had a core to itself and the load generator were no limit. It is steadier than req/s on a busy machine.',
    `Session cookie sizes: BFF ${n(s.cookieBytes.bff)} bytes, express-openid-connect ${n(s.cookieBytes.expressOpenidConnect)} bytes (same token set: JWT access token, ID token, refresh token).`,
    `Calls that reached the authorization server during the /me runs: ${report.authorizationServerCallsDuringMeRuns}.`,
    `Lambda cold start, medians of ${c.runs.length} processes: import ${c.medianImportMs.toFixed(0)} ms + first /me ${c.medianFirstResponseMs.toFixed(0)} ms = ${c.medianTotalMs.toFixed(0)} ms (fastest ${c.minTotalMs.toFixed(0)} ms; with node's own start-up: ${c.medianProcessMs.toFixed(0)} ms).`,
    ...Object.entries(report.throughput.extraRatios).map(([k, v]) => `${k}: ${x(v)}`),
  ];
}

const TARGET_HEAD = ['figure', 'measured', 'baseline (same run)', 'ratio', 'target', 'result'];

/** The three tables and the notes, in a given table format. */
function render(report: BenchReport, format: (head: string[], rows: string[][]) => string, title: string, footer: string[]): string {
  return [
    title,
    '',
    format(TARGET_HEAD, targetRows(report)),
    '',
    format(THROUGHPUT_HEAD, throughputRows(report)),
    '',
    format(WIDGET_HEAD, widgetRows(report)),
    '',
    ...notes(report).map((l) => `- ${l}`),
    ...footer,
    '',
  ].join('\n');
}

const passed = (report: BenchReport) => `${report.targets.filter((t) => t.pass).length}/${report.targets.length} targets pass`;

export function renderText(report: BenchReport): string {
  return `\n${render(report, table, `Latch bench${report.quick ? ' (--quick: not comparable with full runs)' : ''}: ${passed(report)}`, [])}`;
}

/** The targets table alone, with the run's date, commit and load (the README shows it). */
export function renderTargetsMarkdown(report: BenchReport): string {
  const m = report.machine;
  return [
    mdTable(TARGET_HEAD, targetRows(report)),
    '',
    `${passed(report)}; ${report.date.slice(0, 10)}, commit ${report.commit}, load average ${m.loadAverageBefore[0]} before and ${m.loadAverageAfter[0]} after.`,
    '',
  ].join('\n');
}

export function renderMarkdown(report: BenchReport, opts: { footer?: boolean } = {}): string {
  const footer = opts.footer === false ? [] : ['', 'Generated by `npm run bench` (bench/run.ts); what each figure means: [docs/bench.md](../../docs/bench.md).'];
  return render(report, mdTable, `### Latest bench: ${passed(report)}`, footer);
}

/**
 * The soak's report: plain text for the terminal, markdown for bench/results/soak.md and
 * docs/bench.md, and the chart (an SVG drawn here: RSS and heap over time, the warm-up shaded, the
 * two checkpoints' figures after a full collection, and the growth allowed).
 */
import { mdTable as md, table } from './report.ts';
import { rssParts, type SoakReport } from './soak-run.ts';

const MB = 1e6;
const n = (v: number) => Math.round(v).toLocaleString('en-US');
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

function headline(r: SoakReport): string {
  const passed = r.checks.filter((c) => c.pass).length;
  return `Soak: ${r.pass ? 'PASS' : 'FAIL'} (${passed}/${r.checks.length} checks), ${f1(r.settings.minutes)} min of mixed load`;
}

function figureRows(r: SoakReport): string[][] {
  const [base, end] = r.checkpoints;
  return [
    ['answers from the BFF', `${n(r.bffAnswers)} (${f1(r.answersPerSecond)}/s during the load phase)`],
    ['5xx', `${r.clients5xx} seen by the clients, ${r.bffCounts.answers5xx} in the BFF's own count`],
    ['heap used after a full GC', base && end ? `${f1(base.afterGc.heapUsed / MB)} → ${f1(end.afterGc.heapUsed / MB)} MB (${pct(r.figures.heapGrowth)})` : '—'],
    ['RSS after a full GC, less V8\'s free heap pages', base && end ? `${f1(rssParts(base).kept / MB)} → ${f1(rssParts(end).kept / MB)} MB (${pct(r.figures.rssKeptGrowth)})` : '—'],
    ['RSS after a full GC, as it is', base && end ? `${f1(base.rssBytes / MB)} → ${f1(end.rssBytes / MB)} MB (${pct(r.figures.rssGrowth)}; V8's free heap pages ${f1(rssParts(base).v8Free / MB)} → ${f1(rssParts(end).v8Free / MB)} MB)` : '—'],
    ['trend over the load phase (least squares, GC sawtooth included)', `heap ${f1(r.figures.heapSlopeMBPerMin)} MB/min, RSS ${f1(r.figures.rssSlopeMBPerMin)} MB/min`],
    ['event-loop delay p99, per sample interval', `median ${f1(r.figures.eventLoopP99Ms.median)} ms, worst ${f1(r.figures.eventLoopP99Ms.worst)} ms (max delay ${f1(r.figures.eventLoopMaxMs)} ms)`],
    ['open at the end (idle, clients gone)', end ? `${end.files.total} fds (${Object.entries(end.files.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}); TCP: ${end.files.tcp.map((s) => s.state).join(', ') || 'none'}` : '—'],
    ['open after warm-up (same conditions)', base ? `${base.files.total} fds (${Object.entries(base.files.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}); TCP: ${base.files.tcp.map((s) => s.state).join(', ') || 'none'}` : '—'],
    ['CPU', `BFF ${f1(r.cpu.bffSeconds)} s in all, ${(r.cpu.bffShareDuringLoad * 100).toFixed(0)}% of a core during the load phase; the soak itself (clients, provider, demo API) ${f1(r.cpu.soakSeconds)} s`],
    ['sign-ins, refreshes, logouts', `${n(r.answers['signed-in']?.statuses['done'] ?? 0)} sign-ins; ${n(r.providerCounts['token:refresh_token'] ?? 0)} refresh-token grants at the provider; ${n(r.bffCounts.backchannelLogouts)} back-channel logouts accepted`],
  ];
}

function answerRows(r: SoakReport): string[][] {
  return Object.entries(r.answers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, k]) => [kind, Object.entries(k.statuses).map(([s, c]) => `${s}: ${n(c)}`).join(', ') || '—', k.unanswered ? n(k.unanswered) : '']);
}

function footer(r: SoakReport): string[] {
  const s = r.settings;
  return [
    `${r.date}${r.commit ? `, commit ${r.commit}` : ''}; node ${r.machine.node}, ${r.machine.cpus} × ${r.machine.cpuModel.split(' ').slice(0, 2).join(' ')}, ${r.machine.memoryGiB} GiB; load average before ${r.machine.loadAverageBefore.join(' ')}, after ${r.machine.loadAverageAfter.join(' ')} (1-minute figure between ${Math.min(...r.samples.map((s) => s.loadAverage))} and ${Math.max(...r.samples.map((s) => s.loadAverage))} during the run); ${r.seconds} s in all.`,
    `${s.users} simulated users, ${s.rate} steps/s in all; sessions used ${s.sessionSeconds[0]}–${s.sessionSeconds[1]} s each; access tokens of ${s.accessTokenTtlSeconds} s; ${n(s.primeSessions)} sessions primed into the seal cache; warm-up ${s.warmupSeconds} s; samples every ${s.sampleSeconds} s.`,
  ];
}

export function renderText(r: SoakReport): string {
  return [
    headline(r),
    '',
    table(['check', 'result', 'measured'], r.checks.map((c) => [c.name, c.pass ? 'PASS' : 'FAIL', c.detail])),
    '',
    table(['figure', 'value'], figureRows(r)),
    '',
    ...(r.unexpected.count ? [`unexpected (first ${r.unexpected.first.length} of ${r.unexpected.count}):`, ...r.unexpected.first.map((u) => `  ${(u.atMs / 1000).toFixed(1)} s ${u.kind} ${u.status}: ${u.detail}`), ''] : []),
    ...footer(r),
  ].join('\n');
}

export function renderMarkdown(r: SoakReport, opts: { chart?: string } = {}): string {
  return [
    `### ${headline(r)}`,
    '',
    ...(opts.chart ? [`![RSS and heap of the BFF over the soak](${opts.chart})`, ''] : []),
    md(['check', 'result', 'measured'], r.checks.map((c) => [c.name, c.pass ? 'PASS' : 'FAIL', c.detail])),
    '',
    md(['figure', 'value'], figureRows(r)),
    '',
    '<details><summary>Answers by kind of request</summary>',
    '',
    md(['kind', 'statuses', 'left before the answer'], answerRows(r)),
    '',
    '</details>',
    '',
    ...footer(r).map((line) => `- ${line}`),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The chart

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A step of 1, 2 or 5 × 10^k giving about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
}

export function renderSvg(r: SoakReport): string {
  const W = 760;
  const H = 340;
  const m = { l: 56, r: 16, t: 64, b: 44 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const samples = r.samples.filter((s) => Number.isFinite(s.rssBytes));
  const tMax = Math.max(...r.phases.map((p) => p.to), ...samples.map((s) => s.t)) / 60;
  const yMaxRaw = Math.max(...samples.map((s) => s.rssBytes), ...r.checkpoints.map((c) => c.rssBytes)) / MB;
  const yStep = niceStep(yMaxRaw, 5);
  const yMax = Math.ceil((yMaxRaw * 1.05) / yStep) * yStep;
  const xStep = niceStep(tMax, 8);
  const x = (min: number) => m.l + (min / tMax) * pw;
  const y = (mbytes: number) => m.t + ph - (mbytes / yMax) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${m.l}" y="16" font-size="14" font-weight="600">${esc(`BFF memory over a ${f1(r.settings.minutes)}-minute soak (${r.date.slice(0, 10)}, node ${r.machine.node})`)}</text>`);
  // Phases: the prime and the warm-up shaded, the checkpoints (no load) tinted.
  for (const p of r.phases) {
    const fill = p.phase === 'checkpoint' ? '#e0f2fe' : p.phase === 'load' ? '' : '#f1f5f9';
    if (!fill) continue;
    out.push(`<rect x="${x(p.from / 60).toFixed(1)}" y="${m.t}" width="${Math.max(1, x(p.to / 60) - x(p.from / 60)).toFixed(1)}" height="${ph}" fill="${fill}"/>`);
  }
  const warm = r.phases.filter((p) => p.phase === 'prime' || p.phase === 'warm-up');
  if (warm.length) {
    const from = Math.min(...warm.map((p) => p.from)) / 60;
    const to = Math.max(...warm.map((p) => p.to)) / 60;
    out.push(`<text x="${((x(from) + x(to)) / 2).toFixed(1)}" y="${m.t + 14}" text-anchor="middle" fill="#475569">warm-up</text>`);
  }
  // Grid and axes.
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#334155">${v}</text>`);
  }
  for (let v = 0; v <= tMax + 1e-9; v += xStep) {
    out.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${m.t + ph}" y2="${m.t + ph + 4}" stroke="#334155"/>`);
    out.push(`<text x="${x(v).toFixed(1)}" y="${m.t + ph + 17}" text-anchor="middle" fill="#334155">${Number(v.toFixed(2))}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#334155"/>`);
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#334155"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle" fill="#334155">minutes since the BFF started</text>`);
  out.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" fill="#334155">MB</text>`);
  // The series, broken where no sample was taken (the checkpoints).
  const series = (values: (s: (typeof samples)[number]) => number, color: string) => {
    let path = '';
    let prev: number | undefined;
    for (const s of samples) {
      const v = values(s);
      if (!Number.isFinite(v)) continue;
      const gap = prev === undefined || s.t - prev > r.settings.sampleSeconds * 2.5;
      path += `${gap ? 'M' : 'L'}${x(s.t / 60).toFixed(1)} ${y(v / MB).toFixed(1)} `;
      prev = s.t;
    }
    out.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="1.6" stroke-linejoin="round"/>`);
  };
  const RSS = '#1d4ed8';
  const HEAP = '#c2410c';
  series((s) => s.rssBytes, RSS);
  series((s) => s.heapUsedBytes, HEAP);
  // The checkpoints' figures after a full GC, and the growth allowed from the first.
  const [base, end] = r.checkpoints;
  if (base && end) {
    // The growth allowed applies to the figures after a full GC (RSS less V8's free heap pages, the
    // heap used): drawn where the last ones are compared with the first.
    const limit = 1 + r.settings.maxGrowth;
    const ex = x(end.t / 60);
    for (const [value, color] of [[rssParts(base).kept, RSS], [base.afterGc.heapUsed, HEAP]] as const) {
      const ly = y((value * limit) / MB).toFixed(1);
      out.push(`<line x1="${(ex - 44).toFixed(1)}" x2="${(ex + 8).toFixed(1)}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
      out.push(`<text x="${(ex - 48).toFixed(1)}" y="${(Number(ly) + 4).toFixed(1)}" text-anchor="end" fill="${color}" stroke="#fff" stroke-width="4" paint-order="stroke">+${(r.settings.maxGrowth * 100).toFixed(0)}% limit</text>`);
    }
    for (const c of r.checkpoints) {
      const cx = x(c.t / 60).toFixed(1);
      out.push(`<circle cx="${cx}" cy="${y(c.rssBytes / MB).toFixed(1)}" r="4" fill="#fff" stroke="${RSS}" stroke-width="2"/>`);
      out.push(`<rect x="${(Number(cx) - 4).toFixed(1)}" y="${(y(rssParts(c).kept / MB) - 4).toFixed(1)}" width="8" height="8" fill="${RSS}"/>`);
      out.push(`<circle cx="${cx}" cy="${y(c.afterGc.heapUsed / MB).toFixed(1)}" r="4" fill="${HEAP}"/>`);
    }
  }
  // Legend, two lines.
  const legend: Array<[number, string, string]> = [
    [0, `<line x1="0" x2="18" y1="-4" y2="-4" stroke="${RSS}" stroke-width="2"/>`, 'RSS (/proc)'],
    [0, `<line x1="0" x2="18" y1="-4" y2="-4" stroke="${HEAP}" stroke-width="2"/>`, 'heap used (prom-client)'],
    [0, `<rect x="0" y="-9" width="14" height="11" fill="#e0f2fe"/>`, 'checkpoint: no load, a full GC'],
    [1, `<circle cx="9" cy="-4" r="4" fill="#fff" stroke="${RSS}" stroke-width="2"/>`, 'RSS after it'],
    [1, `<rect x="5" y="-8" width="8" height="8" fill="${RSS}"/>`, "RSS after it, less V8's free heap pages (checked)"],
    [1, `<circle cx="9" cy="-4" r="4" fill="${HEAP}"/>`, 'heap used after it (checked)'],
  ];
  const lx = [m.l, m.l];
  for (const [row, mark, label] of legend) {
    out.push(`<g transform="translate(${lx[row]} ${30 + row * 16})">${mark}<text x="24" y="0" fill="#334155">${esc(label)}</text></g>`);
    lx[row]! += 40 + label.length * 6.2;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * Measured runs against child servers, and their interleaving: every contender of a figure is warmed up,
 * then measured in turn, `rounds` times (A B C A B C …), so that a burst of other work on the machine
 * hits all of them rather than one. Each run's figure is its 2xx (or expected-status) answers per second
 * and the server's CPU time per answer, read from /proc for the server process alone.
 */
import type { ChildServer } from './children.ts';
import { load, type LoadOptions, type LoadResult } from './load.ts';

export interface RoundSettings {
  connections: number;
  /** Seconds per measured run. */
  duration: number;
  /** Seconds of unrecorded load before a contender's first measured run. */
  warmup: number;
  rounds: number;
}

/** CPU time (ms) of something besides the server that each of its answers costs (the redis-server behind it). */
export interface ExtraCpu {
  name: string;
  ms: () => Promise<number>;
}

export type Measured = LoadResult & {
  /** The server process's CPU time (user + system) per answer, µs. */
  cpuUsPerRequest: number;
  /** The extra process's CPU time per answer, µs (0 without one). */
  extraCpuUsPerRequest: number;
};

export interface Series {
  name: string;
  runs: Measured[];
  /** Mean of the rounds' answer rates. */
  rps: number;
  /** Server CPU per answer, µs, over all rounds (with the extra process's, when there is one). */
  cpuUs: number;
  /** The extra process's part of cpuUs. */
  extraCpuUs: number;
  extraName?: string;
  p50: number;
  p99: number;
}

/** One load run against a child server, with the CPU time the server (and `extra`) spent on it. */
export async function measure(server: ChildServer, opts: LoadOptions, extra?: ExtraCpu): Promise<Measured> {
  const before = server.cpuMs();
  const extraBefore = extra ? await extra.ms() : 0;
  const result = await load(opts);
  const answers = Math.max(1, result.ok);
  const extraMs = extra ? (await extra.ms()) - extraBefore : 0;
  return { ...result, cpuUsPerRequest: ((server.cpuMs() - before) * 1000) / answers, extraCpuUsPerRequest: (extraMs * 1000) / answers };
}

/** The rounds of one contender as one figure; throws unless every answer was the expected one. */
export function series(name: string, runs: Measured[], extraName?: string): Series {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const invalid = runs.find((r) => r.non2xx > 0 || r.errors > 0 || r.timeouts > 0);
  if (invalid) throw new Error(`${name}: ${invalid.non2xx} unexpected answers, ${invalid.errors} errors, ${invalid.timeouts} timeouts: the figure would not be of successful requests`);
  const ok = runs.reduce((a, r) => a + r.ok, 0);
  const weighted = (pick: (r: Measured) => number) => runs.reduce((a, r) => a + pick(r) * r.ok, 0) / Math.max(1, ok);
  const extraCpuUs = weighted((r) => r.extraCpuUsPerRequest);
  return {
    name, runs, rps: mean(runs.map((r) => r.rps)), cpuUs: weighted((r) => r.cpuUsPerRequest) + extraCpuUs, extraCpuUs,
    ...(extraName ? { extraName } : {}), p50: mean(runs.map((r) => r.latencyP50)), p99: mean(runs.map((r) => r.latencyP99)),
  };
}

export interface Contender {
  name: string;
  server: ChildServer;
  path: string;
  /** Headers for a run; called before every run (a fresh warm cookie each time). */
  headers: () => Promise<Record<string, string>>;
  /** The status every answer must have; default any 2xx. */
  expectStatus?: number;
  extra?: ExtraCpu;
}

/** Warms each contender, then measures them in turn, `rounds` times (A B C A B C …). */
export async function interleaved(contenders: Contender[], settings: RoundSettings, log: (msg: string) => void): Promise<Map<string, Series>> {
  const base = (c: Contender, headers: Record<string, string>): LoadOptions => ({
    url: c.server.url, path: c.path, headers, connections: settings.connections, ...(c.expectStatus ? { expectStatus: c.expectStatus } : {}),
  });
  for (const c of contenders) {
    log(`warm-up ${c.name} (${settings.warmup} s)`);
    await load({ ...base(c, await c.headers()), duration: settings.warmup });
  }
  const runs = new Map<string, Measured[]>(contenders.map((c) => [c.name, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const c of contenders) {
      const result = await measure(c.server, { ...base(c, await c.headers()), duration: settings.duration, maxSeconds: settings.duration + 20 }, c.extra);
      log(`round ${round}/${settings.rounds} ${c.name}: ${Math.round(result.rps)} req/s, ${Math.round(result.cpuUsPerRequest + result.extraCpuUsPerRequest)} µs CPU/req, p99 ${result.latencyP99} ms`);
      runs.get(c.name)!.push(result);
    }
  }
  return new Map(contenders.map((c) => [c.name, series(c.name, runs.get(c.name)!, c.extra?.name)]));
}

export interface ColdContender {
  name: string;
  server: ChildServer;
  /** Cookie headers never sent to this server before; each round takes the next `perRound` of them. */
  cookies: readonly string[];
}

/**
 * Cold runs: a Cookie header no earlier request to that server carried, on every request; rounds
 * interleaved like interleaved()'s, `perRound` requests each, bounded by `maxSeconds`.
 */
export async function coldRounds(
  contenders: ColdContender[], opts: { perRound: number; rounds: number; connections: number; path: string; headers: Record<string, string> }, log: (msg: string) => void,
): Promise<Map<string, Series>> {
  const runs = new Map<string, Measured[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const c of contenders) {
      const cookies = c.cookies.slice(round * opts.perRound, (round + 1) * opts.perRound);
      if (cookies.length !== opts.perRound) throw new Error(`${c.name} cold: ${cookies.length} cookies left for round ${round + 1}, ${opts.perRound} needed`);
      const result = await measure(c.server, { url: c.server.url, path: opts.path, headers: opts.headers, cookies, amount: opts.perRound, connections: opts.connections, maxSeconds: 120 });
      if (result.distinctCookies !== opts.perRound || result.ok !== opts.perRound) throw new Error(`${c.name} cold: ${result.ok} answers to ${result.distinctCookies} distinct cookies, expected ${opts.perRound}`);
      log(`cold round ${round + 1}/${opts.rounds} ${c.name}: ${Math.round(result.rps)} req/s, ${Math.round(result.cpuUsPerRequest)} µs server CPU/req, ${result.ok} distinct sessions`);
      runs.get(c.name)!.push(result);
    }
  }
  return new Map([...runs].map(([name, list]) => [name, series(name, list)]));
}

/**
 * A sign-in's own cost at the BFF, one sign-in at a time, against the dev provider in this process:
 *
 * - each sign-in goes through the provider's real login form (test/helpers/http.ts signIn, a fresh
 *   browser each time), stopping when the provider sends the browser back to the BFF's /callback;
 * - the bench then requests that /callback itself and times it (wall time, this process);
 * - the provider's answers are timed where it serves them, in this process: Node's
 *   `http.server.request.start` to `http.server.response.finish` (diagnostics_channel, on the
 *   provider's port only), so each /callback's authorization-server time (the token request, the
 *   userinfo request, the JWKS on the first) is known and subtracted: own time = wall − that;
 * - the BFF runs with the probe (bench/servers/probe.ts), which reports the CPU time each of its
 *   requests took, in its own process (the authorization server's work is another process's, so it is
 *   not in it). With one request at a time, that is /login's and /callback's own CPU, request by request.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, signIn } from '../../test/helpers/http.ts';
import type { ChildServer } from './children.ts';
import { get } from './http.ts';
import { percentile } from './stats.ts';

interface HttpMessage {
  request: IncomingMessage;
  response: ServerResponse;
  server: Server;
}

export interface TimedAnswer {
  path: string;
  ms: number;
}

/** Times every answer of the HTTP server listening on `port` in this process. */
export function timeAnswers(port: number): { answers: TimedAnswer[]; stop(): void } {
  const answers: TimedAnswer[] = [];
  const started = new WeakMap<ServerResponse, number>();
  const ours = (server: Server) => (server.address() as AddressInfo | null)?.port === port;
  const onStart = (message: unknown) => {
    const m = message as HttpMessage;
    if (ours(m.server)) started.set(m.response, performance.now());
  };
  const onFinish = (message: unknown) => {
    const m = message as HttpMessage;
    const t = started.get(m.response);
    if (t !== undefined) answers.push({ path: (m.request.url ?? '/').split('?')[0]!, ms: performance.now() - t });
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return {
    answers,
    stop() {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
    },
  };
}

export interface SignInFigures {
  signIns: number;
  /** Per /callback, ms: wall time at the client, the provider's answering time, and the difference. */
  callbackWallMs: number[];
  authorizationServerMs: number[];
  ownMs: number[];
  /** The provider's answers during the measured /callbacks, by path. */
  authorizationServerCalls: Record<string, number>;
  /** CPU µs per request in the BFF process (probe), by path: /login and /callback. */
  cpuUs: Record<string, number[]>;
  /** Requests the probe could not time alone (another was in flight): should be 0. */
  overlapped: number;
  /** The BFF process's CPU (from /proc) over the measured sign-ins, ms per sign-in (/login + /callback + the rest). */
  procCpuMsPerSignIn: number;
}

export interface SignInOptions {
  bff: ChildServer;
  /** The probe's base URL (BENCH_PROBE_PORT). */
  probeUrl: string;
  providerPort: number;
  user: { login: string; password: string };
  returnTo: string;
  warmup: number;
  signIns: number;
  log: (msg: string) => void;
}

export async function measureSignIns(opts: SignInOptions): Promise<SignInFigures> {
  const timings = timeAnswers(opts.providerPort);
  const bffOrigin = new URL(opts.bff.url).origin;
  const figures: SignInFigures = { signIns: opts.signIns, callbackWallMs: [], authorizationServerMs: [], ownMs: [], authorizationServerCalls: {}, cpuUs: {}, overlapped: 0, procCpuMsPerSignIn: 0 };
  let cpuBefore = 0;
  try {
    for (let i = 0; i < opts.warmup + opts.signIns; i++) {
      if (i === opts.warmup) {
        await probe(opts.probeUrl); // forget the warm-up's samples
        cpuBefore = opts.bff.cpuMs();
      }
      const browser = new HttpClient();
      const { finalUrl } = await signIn(browser, `${opts.bff.url}/login?returnTo=${encodeURIComponent(opts.returnTo)}`, opts.user, {
        stopAt: (url) => url.origin === bffOrigin && url.pathname === '/callback',
      });
      if (finalUrl.pathname !== '/callback') throw new Error(`sign-in ${i}: stopped at ${finalUrl.href}, not at the BFF's /callback`);
      const cookie = await browser.jar.getCookieString(finalUrl.href);
      const from = timings.answers.length;
      const started = performance.now();
      const answer = await get(finalUrl.href, { cookie, accept: 'text/html' });
      const wall = performance.now() - started;
      const location = answer.headers.location ?? '';
      if (answer.status < 300 || answer.status > 303 || !location.startsWith(opts.returnTo) || !answer.headers['set-cookie']?.some((c) => /^latch=/.test(c))) {
        throw new Error(`sign-in ${i}: /callback answered ${answer.status} (Location ${location}) without a session cookie: ${answer.text.slice(0, 300)}`);
      }
      if (i < opts.warmup) continue;
      const calls = timings.answers.slice(from);
      const asMs = calls.reduce((a, c) => a + c.ms, 0);
      figures.callbackWallMs.push(wall);
      figures.authorizationServerMs.push(asMs);
      figures.ownMs.push(wall - asMs);
      for (const c of calls) figures.authorizationServerCalls[c.path] = (figures.authorizationServerCalls[c.path] ?? 0) + 1;
    }
    figures.procCpuMsPerSignIn = (opts.bff.cpuMs() - cpuBefore) / opts.signIns;
    const { samples, overlapped } = await probe(opts.probeUrl);
    figures.cpuUs = samples;
    figures.overlapped = overlapped;
    opts.log(`sign-ins: ${opts.signIns}; /callback CPU p50 ${Math.round(percentile(samples['/callback'] ?? [], 50))} µs, own time p50 ${percentile(figures.ownMs, 50).toFixed(2)} ms`);
    return figures;
  } finally {
    timings.stop();
  }
}

async function probe(probeUrl: string): Promise<{ samples: Record<string, number[]>; overlapped: number }> {
  const answer = await get(`${probeUrl}/cpu`, {});
  if (answer.status !== 200) throw new Error(`probe: ${answer.status}`);
  return JSON.parse(answer.text) as { samples: Record<string, number[]>; overlapped: number };
}

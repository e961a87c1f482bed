/**
 * One load run with autocannon, in this process: 32 connections by default, bounded by a duration
 * or by a count of requests (`amount`), and always by a hard time limit.
 */
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  connections?: number;
  /** Seconds (ignored when `amount` is given). */
  duration?: number;
  /** Exactly this many requests. */
  amount?: number;
  /** A different Cookie header for every request, in order (the cold runs). */
  cookies?: readonly string[];
  /** Stop whatever happens after this many seconds. default 60 */
  maxSeconds?: number;
  /** The status every answer should have (e.g. 302 for /login); default: any 2xx. */
  expectStatus?: number;
}

export interface LoadResult {
  /** Requests answered 2xx (or `expectStatus`). */
  ok: number;
  /** Requests answered anything else. */
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** `ok` answers per second over the run. */
  rps: number;
  latencyP50: number;
  latencyP99: number;
  /** Cold runs: how many requests carried a cookie no earlier request had carried. */
  distinctCookies?: number;
}

export async function load(opts: LoadOptions): Promise<LoadResult> {
  const connections = opts.connections ?? 32;
  let sent = 0;
  const cookies = opts.cookies;
  const request: autocannon.Request = { method: opts.method ?? 'GET', path: opts.path };
  if (cookies) {
    request.setupRequest = (req) => {
      const cookie = cookies[sent % cookies.length]!;
      sent++;
      return { ...req, headers: { ...req.headers, cookie } };
    };
  }
  const options: autocannon.Options = {
    url: opts.url,
    connections,
    pipelining: 1,
    headers: opts.headers ?? {},
    requests: [request],
    ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.duration ?? 5 }),
  };
  // The run's span is timed here, from the start to the last answer: autocannon's own start/finish
  // only change on its one-second tick, which would round a 1.4 s run of `amount` requests up to 2 s.
  let started = 0;
  let lastAnswer = 0;
  let expected = 0;
  let unexpected = 0;
  const isExpected = (status: number) => (opts.expectStatus === undefined ? status >= 200 && status < 300 : status === opts.expectStatus);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    started = performance.now();
    lastAnswer = started;
    const instance = autocannon(options, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', (_client: unknown, status: number) => {
      lastAnswer = performance.now();
      if (isExpected(status)) expected++;
      else unexpected++;
    });
    const limit = setTimeout(() => instance.stop(), (opts.maxSeconds ?? 60) * 1000);
    instance.once('done', () => clearTimeout(limit));
  });
  const seconds = (lastAnswer - started) / 1000;
  const ok = expected;
  return {
    ok,
    non2xx: unexpected,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
    rps: ok / seconds,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    ...(cookies ? { distinctCookies: Math.min(sent, cookies.length) } : {}),
  };
}

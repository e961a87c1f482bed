/**
 * A preload that observes a server under test from outside its code: the bench bundles this file
 * (bench/lib/build.ts) and starts the server with `node --import <probe.mjs> [--expose-gc] server.js`.
 * Nothing in the server changes; the probe answers on a port of its own, 127.0.0.1:$BENCH_PROBE_PORT:
 *
 *   GET /cpu    with BENCH_PROBE_CPU=1: the CPU time (user + system, µs, process.cpuUsage) each request
 *               took, from Node's `http.server.request.start` to `http.server.response.finish`
 *               (diagnostics_channel), by path, then forgets them. Meaningful only for requests sent one
 *               at a time: `overlapped` counts those that ran while another was in flight. The time the
 *               server spends waiting on another process (the authorization server) is no CPU, so it is
 *               not in these figures.
 *   GET /heap   after three full collections (with --expose-gc): process.memoryUsage() and the RSS.
 *
 * The channels are subscribed only with BENCH_PROBE_CPU=1, so a probe that only answers /heap costs
 * the server nothing per request.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

const port = Number(process.env['BENCH_PROBE_PORT']);
if (!port) throw new Error('probe: BENCH_PROBE_PORT is required');

const samples = new Map<string, number[]>();
let overlapped = 0;
let inFlight = 0;
const started = new WeakMap<ServerResponse, { cpu: NodeJS.CpuUsage; overlapped: boolean }>();
let probe: Server | undefined;

interface HttpMessage {
  request: IncomingMessage;
  response: ServerResponse;
  server: Server;
}

if (process.env['BENCH_PROBE_CPU'] === '1') {
  subscribe('http.server.request.start', (message) => {
    const { response, server } = message as HttpMessage;
    if (server === probe) return;
    inFlight++;
    const overlaps = inFlight > 1;
    started.set(response, { cpu: process.cpuUsage(), overlapped: overlaps });
  });
  subscribe('http.server.response.finish', (message) => {
    const { request, response, server } = message as HttpMessage;
    if (server === probe) return;
    const start = started.get(response);
    if (!start) return;
    inFlight--;
    const used = process.cpuUsage(start.cpu);
    if (start.overlapped || inFlight > 0) {
      overlapped++;
      return;
    }
    const path = (request.url ?? '/').split('?')[0]!;
    let list = samples.get(path);
    if (!list) samples.set(path, (list = []));
    list.push(used.user + used.system);
  });
}

const gc = (globalThis as { gc?: () => void }).gc;

probe = createServer((req, res) => {
  const answer = (body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url === '/cpu') {
    answer({ samples: Object.fromEntries(samples), overlapped });
    samples.clear();
    overlapped = 0;
    return;
  }
  if (req.url === '/heap') {
    if (gc) for (let i = 0; i < 3; i++) gc();
    answer({ collected: !!gc, ...process.memoryUsage() });
    return;
  }
  res.writeHead(404).end();
});
probe.listen(port, '127.0.0.1');
probe.unref();

/**
 * The API behind both proxies: node:http, a small JSON answer to everything. Listens on 127.0.0.1:$PORT.
 */
import http from 'node:http';

const port = Number(process.env['PORT']);
http
  .createServer((req, res) => {
    req.resume();
    const body = JSON.stringify({ ok: true, method: req.method, url: req.url, items: [1, 2, 3] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  })
  .listen(port, '127.0.0.1');

// Stopped by the bench with SIGTERM: exit at once (and write a --cpu-prof profile when asked for one).
process.once('SIGTERM', () => process.exit(0));

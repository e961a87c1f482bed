/** Single HTTP requests (not load): to check what the servers answer, and for the sequential flows. */
import { request, type IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** A GET on a connection of its own (no keep-alive agent), with a 15 s limit. */
export function get(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { headers, agent: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.once('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.once('error', reject);
    req.end();
  });
}

export async function expectStatus(what: string, url: string, headers: Record<string, string>, status = 200, opts: { noSetCookie?: boolean } = {}): Promise<Answer> {
  const answer = await get(url, headers);
  if (answer.status !== status) throw new Error(`${what}: expected ${status} from ${url}, got ${answer.status}: ${answer.text.slice(0, 300)}`);
  if (opts.noSetCookie && answer.headers['set-cookie']) throw new Error(`${what}: the session was rewritten (Set-Cookie) on a plain read; the measurement would not be of a read`);
  return answer;
}

/** Fires `n` GETs at once, each on its own connection, spread over `urls` in turn. */
export function burst(n: number, urls: readonly string[], headers: Record<string, string>): Promise<Answer[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => get(urls[i % urls.length]!, headers)));
}

/**
 * WebSockets through the proxy (bff/routes/proxy-ws.ts) with a real `ws` upstream, a real provider and
 * the BFF's own upgrade handler on its HTTP server: the token attached (and nothing of the browser's
 * that is not the upstream's business), a foreign or missing Origin refused on the raw socket, the
 * socket closed when the session ends (back-channel logout, DELETE /sessions/<id>) or its
 * unrenewable token expires; in the hand-off mode, the one-time ticket.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { pino } from 'pino';
import { loadConfig } from '../../../bff/config.ts';
import { upgradeHandler } from '../../../bff/routes/proxy-ws.ts';
import { startServer } from '../../../bff/server.ts';
import { completeProviderLogout, HttpClient } from '../../helpers/http.ts';
import { get, OTHER_SITE, post, signedIn, SITE, startSecStack, type BffInstance, type SecStack } from '../../security/support.ts';
import { patchedSessionCookie } from './proxy-support.ts';

const csrf = { origin: SITE, 'latch-csrf': '1' };

describe('WebSockets through the proxy', () => {
  let upstream: WebSocketServer;
  let upstreamUrl: string;
  const seen: IncomingHttpHeaders[] = [];
  let stack: SecStack;
  let wsBase: string;
  before(async () => {
    upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => upstream.once('listening', () => resolve()));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
    upstream.on('connection', (socket, req) => {
      seen.push(req.headers);
      socket.on('message', (data) => socket.send(`echo:${String(data)}`));
    });
    stack = await startSecStack({ backchannel: true, env: { LATCH_API_ROUTES: `live=${upstreamUrl}/base` } });
    stack.bff.listening.server.on('upgrade', upgradeHandler(stack.bff.app));
    wsBase = stack.bffUrl.replace(/^http/, 'ws');
  });
  after(async () => {
    for (const client of upstream.clients) client.terminate();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await stack?.close();
  });

  /** Opens a WebSocket through the BFF; resolves once open (rejects with the refusal's status). */
  function connect(url: string, headers: Record<string, string>, protocols: string[] = []): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { headers });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }
  const closed = (ws: WebSocket) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())));
  const within = <T>(p: Promise<T>, ms: number, what: string) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

  /** An upgrade request written as bytes: the raw answer. */
  function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => (answer += d.toString('latin1')));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      setTimeout(() => socket.destroy(), 3000).unref();
    });
  }

  it('joins the socket to the upstream with the access token attached, and without the browser\'s cookie, origin or ticket', async () => {
    const { cookie } = await signedIn(stack);
    const { session } = (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!;
    seen.length = 0;
    const ws = await connect(`${wsBase}/api/live/chat?room=1&latch_ticket=x`, { cookie, origin: SITE }, ['chat.v1']);
    assert.equal(ws.protocol, 'chat.v1');
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    ws.send('hello');
    assert.equal(await reply, 'echo:hello');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.authorization, `Bearer ${session.at}`);
    for (const name of ['cookie', 'origin', 'latch-csrf']) assert.equal(seen[0]![name], undefined, name);
    ws.close();
    await closed(ws);
  });

  it('refuses a cross-site WebSocket (foreign Origin) and one without Origin, on the raw socket, before anything goes upstream', async () => {
    const { cookie } = await signedIn(stack);
    seen.length = 0;
    const port = stack.bff.listening.port;
    for (const origin of ['https://evil.example', `${SITE}.evil.example`, 'null', undefined]) {
      const answer = await rawUpgrade(port, '/api/live/chat', { Cookie: cookie, ...(origin ? { Origin: origin } : {}) });
      assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/, String(origin));
      assert.match(answer, /"code":"LATCH_ORIGIN_NOT_ALLOWED"/);
      assert.doesNotMatch(answer, /Upgrade: websocket/i);
    }
    assert.equal(seen.length, 0, 'the upstream saw nothing');
    const anonymous = await rawUpgrade(port, '/api/live/chat', { Origin: SITE });
    assert.match(anonymous, /^HTTP\/1\.1 401 Unauthorized\r\n[\s\S]*LATCH_UNAUTHENTICATED/);
    assert.match(await rawUpgrade(port, '/api/nope/x', { Origin: SITE, Cookie: cookie }), /^HTTP\/1\.1 404 /);
    assert.match(await rawUpgrade(port, '/me', { Origin: SITE, Cookie: cookie }), /^HTTP\/1\.1 404 /);
    assert.match(await rawUpgrade(port, '/api/live/%2e%2e/x', { Origin: SITE, Cookie: cookie }), /^HTTP\/1\.1 400 /);
    assert.equal(seen.length, 0);
    const other = await connect(`${wsBase}/api/live/x`, { cookie, origin: OTHER_SITE });
    other.close();
  });

  it('closes the socket on a back-channel logout', async () => {
    const { client, cookie } = await signedIn(stack);
    const ws = await connect(`${wsBase}/api/live/chat`, { cookie, origin: SITE });
    await completeProviderLogout(client, `${stack.provider.issuer}/session/end`);
    await within(closed(ws), 2000, 'closed after the back-channel logout');
  });

  it('closes the socket when its session is ended from another (DELETE /sessions/<id>), and at a logout', async () => {
    const one = await signedIn(stack, 1);
    const two = await signedIn(stack, 1);
    const ws1 = await connect(`${wsBase}/api/live/a`, { cookie: one.cookie, origin: SITE });
    const ws2 = await connect(`${wsBase}/api/live/b`, { cookie: two.cookie, origin: SITE });
    const id = (await get(`${stack.bffUrl}/sessions`, { cookie: one.cookie, origin: SITE })).json<{ sessions: Array<{ id: string; current: boolean }> }>().sessions.find((s) => s.current)!.id;
    assert.equal((await new HttpClient().request(`${stack.bffUrl}/sessions/${id}`, { method: 'DELETE', headers: { cookie: two.cookie, ...csrf } })).status, 204);
    await within(closed(ws1), 2000, 'revoked');
    assert.equal(ws2.readyState, WebSocket.OPEN, 'the other session\'s socket stays');
    await post(`${stack.bffUrl}/logout`, { cookie: two.cookie, ...csrf });
    await within(closed(ws2), 2000, 'logged out');
  });

  it('closes the socket when its access token expires and no refresh token can renew it; with one, it stays', async () => {
    const { cookie } = await signedIn(stack);
    const { cookie: short } = await patchedSessionCookie(stack.bff.app, cookie, { atExp: Date.now() + 3000, atl: 2, rt: undefined });
    const { cookie: renewable } = await patchedSessionCookie(stack.bff.app, cookie, { atExp: Date.now() + 3000, atl: 2 });
    const started = Date.now();
    const a = await connect(`${wsBase}/api/live/a`, { cookie: short, origin: SITE });
    const b = await connect(`${wsBase}/api/live/b`, { cookie: renewable, origin: SITE });
    await within(closed(a), 4000, 'closed at the token\'s expiry');
    assert.ok(Date.now() - started >= 2500, `closed after ${Date.now() - started} ms`);
    assert.equal(b.readyState, WebSocket.OPEN);
    b.close();
  });

  it('is served by bff/server.ts, whose graceful shutdown closes joined sockets and still drains', async () => {
    const { cookie } = await signedIn(stack);
    const server = await startServer(loadConfig({ ...stack.env, LATCH_API_ROUTES: `live=${upstreamUrl}/base`, PORT: '0' }), { logger: pino({ level: 'silent' }) });
    const port = (server.server.address() as net.AddressInfo).port;
    const ws = await connect(`ws://127.0.0.1:${port}/api/live/x`, { cookie, origin: SITE });
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    ws.send('through the server');
    assert.equal(await reply, 'echo:through the server');
    assert.equal(await server.shutdown(5000), 'drained');
    await within(closed(ws), 1000, 'closed at shutdown');
  });

  describe('in the hand-off mode', () => {
    let handoff: BffInstance;
    before(async () => {
      handoff = await stack.addBff({ LATCH_HANDOFF: 'true' });
      handoff.listening.server.on('upgrade', upgradeHandler(handoff.app));
    });
    const ticketFor = async (cookie: string) => {
      const res = await post(`${handoff.url}/ws-ticket`, { cookie, ...csrf });
      assert.equal(res.status, 200, res.text);
      return res.json<{ ticket: string; expiresIn: number }>();
    };

    it('needs a one-time ticket from a CSRF-protected POST /ws-ticket: none, reused or another session\'s is refused', async () => {
      const { cookie } = await signedIn(stack);
      const other = await signedIn(stack, 1);
      const base = handoff.url.replace(/^http/, 'ws');
      const port = handoff.listening.port;
      assert.match(await rawUpgrade(port, '/api/live/x', { Origin: SITE, Cookie: cookie }), /^HTTP\/1\.1 403 [\s\S]*LATCH_CSRF/);
      assert.equal((await post(`${handoff.url}/ws-ticket`, { cookie, origin: SITE })).status, 403, 'the ticket itself needs the CSRF header');
      const { ticket, expiresIn } = await ticketFor(cookie);
      assert.equal(expiresIn, 30);
      const ws = await connect(`${base}/api/live/x?latch_ticket=${encodeURIComponent(ticket)}`, { cookie, origin: SITE });
      ws.close();
      assert.match(await rawUpgrade(port, `/api/live/x?latch_ticket=${encodeURIComponent(ticket)}`, { Origin: SITE, Cookie: cookie }), /^HTTP\/1\.1 403 [\s\S]*LATCH_CSRF/, 'reused');
      const theirs = await ticketFor(other.cookie);
      assert.match(await rawUpgrade(port, `/api/live/x?latch_ticket=${encodeURIComponent(theirs.ticket)}`, { Origin: SITE, Cookie: cookie }), /^HTTP\/1\.1 403 /, 'another session\'s');
      const fresh = await ticketFor(cookie);
      assert.match(await rawUpgrade(port, `/api/live/x?latch_ticket=${encodeURIComponent(fresh.ticket)}`, { Origin: 'https://evil.example', Cookie: cookie }), /^HTTP\/1\.1 403 [\s\S]*LATCH_ORIGIN_NOT_ALLOWED/, 'a ticket does not replace the Origin check');
    });
  });
});

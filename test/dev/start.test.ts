import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HttpClient, signIn } from '../helpers/http.ts';
import { freePort } from '../helpers/net.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `npm start` as a newcomer runs it: no configuration, three servers, a printed demo user. */
describe('npm start (dev/start.ts)', () => {
  let child: ChildProcess | undefined;
  after(() => {
    child?.kill('SIGINT');
  });

  it('prints the URLs and the demo user, and that user can sign in and read /me', async () => {
    const [bff, site, provider] = [await freePort(), await freePort(), await freePort()];
    child = spawn(process.execPath, ['--import', 'tsx', 'dev/start.ts'], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', PORT: String(bff), DEMO_SITE_PORT: String(site), DEMO_PROVIDER_PORT: String(provider) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk));
    const started = Date.now();
    while (!out.includes('Press Ctrl-C') && Date.now() - started < 60_000 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(out, /Press Ctrl-C/, out);
    const login = /Demo user:\s+(\S+)/.exec(out)?.[1];
    const password = /Password:\s+(\S+)/.exec(out)?.[1];
    assert.ok(login && password, 'the demo user is printed');
    assert.match(out, new RegExp(`http://localhost:${site}/`));

    const page = await fetch(`http://127.0.0.1:${site}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<latch-login bff="http:\/\/localhost:\d+">/);
    assert.equal((await fetch(`http://127.0.0.1:${site}/latch.js`)).status, 200, 'the widget bundle is served');

    const client = new HttpClient();
    const bffUrl = `http://localhost:${bff}`;
    const { finalUrl } = await signIn(client, `${bffUrl}/login?returnTo=${encodeURIComponent(`http://localhost:${site}/`)}`, { login, password });
    assert.equal(finalUrl.href, `http://localhost:${site}/`);
    const me = await client.request(`${bffUrl}/me`, { headers: { origin: `http://localhost:${site}` } });
    assert.equal(me.status, 200);
    assert.equal(me.json<{ user: { email: string } }>().user.email, login);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0, 'Ctrl-C stops all three cleanly');
  });
});

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HttpClient, signIn } from '../helpers/http.ts';
import { freePort } from '../helpers/net.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every line `npm start` may print, start to Ctrl-C (the first only when dist/ has no widget yet). */
const BANNER: readonly RegExp[] = [
  /^Building the widget \(dist\/latch\.js\)\.\.\.$/,
  /^$/,
  /^Latch demo is running\.$/,
  /^  Microsite \(open this\): +http:\/\/localhost:\d+\/$/,
  /^  BFF: +http:\/\/localhost:\d+$/,
  /^  OpenID provider: +http:\/\/127\.0\.0\.1:\d+$/,
  /^  Demo API: +http:\/\/127\.0\.0\.1:\d+ \(at http:\/\/localhost:\d+\/api\/demo\/hello\)$/,
  /^  Demo user: +\S+$/,
  /^  Password: +\S+$/,
  // On Node 20 only: oidc-provider's "Unsupported runtime" warning, said once in our words.
  /^  Node 20\.\d+\.\d+ is past its end of life \(Node 20: April 2026\)\. Latch runs on it, but deploy on Node 22 or 24\.$/,
  /^Press Ctrl-C to stop\.$/,
  /^Stopping\.\.\.$/,
];

/** `npm start` as a newcomer runs it: no configuration, three servers, a printed demo user. */
describe('npm start (dev/start.ts)', () => {
  let child: ChildProcess | undefined;
  after(() => {
    child?.kill('SIGINT');
  });

  it('prints the URLs and the demo user, and nothing but that banner, and that user can sign in and read /me', async () => {
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

    // A visitor before the first sign-in: the page, the widget, its signed-out /me.
    const signedOut = await fetch(`http://localhost:${bff}/me`, { headers: { origin: `http://localhost:${site}` } });
    assert.equal(signedOut.status, 401);
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

    // Everything the terminal showed, start to stop, is the banner: no runtime warning, no build
    // output, no log line for the signed-out /me or the sign-in.
    const extra = out.split('\n').filter((line) => !BANNER.some((re) => re.test(line)));
    assert.deepEqual(extra, [], `npm start printed more than its banner:\n${out}`);
  });
});

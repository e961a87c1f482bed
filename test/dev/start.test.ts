import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startDemo, type Demo } from '../helpers/demo.ts';
import { HttpClient, signIn } from '../helpers/http.ts';

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
  /^  Development settings: plain http on loopback \(LATCH_ALLOW_INSECURE_HTTP=true\)\. Never in production\.$/,
  // On Node 20 only: oidc-provider's "Unsupported runtime" warning, said once in our words.
  /^  Node 20\.\d+\.\d+ is past its end of life \(Node 20: April 2026\)\. Latch runs on it, but deploy on Node 22 or 24\.$/,
  /^Press Ctrl-C to stop\.$/,
  /^Stopping\.\.\.$/,
];

/** `npm start` as a newcomer runs it: no configuration, three servers, a printed demo user. */
describe('npm start (dev/start.ts)', () => {
  let demo: Demo | undefined;
  after(() => demo?.stop());

  it('prints the URLs and the demo user, and nothing but that banner, and that user can sign in and read /me', async () => {
    demo = await startDemo();
    const { siteUrl, bffUrl, login, password } = demo;
    const siteOrigin = new URL(siteUrl).origin;
    assert.match(demo.out(), new RegExp(`Microsite \\(open this\\): +${siteUrl}`));

    // A visitor before the first sign-in: the page, the widget, its signed-out /me.
    const signedOut = await fetch(`${bffUrl}/me`, { headers: { origin: siteOrigin } });
    assert.equal(signedOut.status, 401);
    const page = await fetch(siteUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<latch-login silent="true" bff="http:\/\/localhost:\d+">/);
    assert.equal((await fetch(`${siteOrigin}/latch.js`)).status, 200, 'the widget bundle is served');

    const client = new HttpClient();
    const { finalUrl } = await signIn(client, `${bffUrl}/login?returnTo=${encodeURIComponent(siteUrl)}`, { login, password });
    assert.equal(finalUrl.href, siteUrl);
    const me = await client.request(`${bffUrl}/me`, { headers: { origin: siteOrigin } });
    assert.equal(me.status, 200);
    assert.equal(me.json<{ user: { email: string } }>().user.email, login);

    assert.equal(await demo.stop(), 0, 'Ctrl-C stops all three cleanly');

    // Everything the terminal showed, start to stop, is the banner: no runtime warning, no build
    // output, no log line for the signed-out /me or the sign-in.
    const out = demo.out();
    const extra = out.split('\n').filter((line) => !BANNER.some((re) => re.test(line)));
    assert.deepEqual(extra, [], `npm start printed more than its banner:\n${out}`);
  });
});

/**
 * The partitioned-cookie hand-off and the sign-in proof at the HTTP level, against a real BFF and a
 * real oidc-provider: a popup sign-in with `handoff=<S256 challenge>` ends in a one-time code (and no
 * session cookie), `POST /handoff` turns the code into a `Partitioned; SameSite=None; Secure`
 * session cookie, and every misuse of the code is refused with its own code and no cookie. (A BFF
 * without the hand-off is answered in memory: it refuses before any call to the provider.)
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LatchPopupMessage } from '../../../bff/contract.ts';
import { handoffKey } from '../../../bff/session/handoff.ts';
import { storeKeys } from '../../../bff/session/store-keys.ts';
import { memoryBff } from '../../helpers/bff.ts';
import { HttpClient, signIn, type HttpResult } from '../../helpers/http.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';

const SITE = 'https://shop-a.test';
const OTHER = 'https://campaign-b.test';
const PARTITIONED = '__Host-latch-p';
/** Groups of the large hand-off session's user (test below). */
const GROUPS = 88;

const newVerifier = () => randomBytes(32).toString('base64url');
const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** What the popup page posts to its opener, and to which origin. */
function popupPost(page: HttpResult): { message: LatchPopupMessage; origin: string; fallback: string } {
  const m = /var d=(\{.*?\});try\{/.exec(page.text);
  assert.ok(m, `a popup result page: ${page.status} ${page.text.slice(0, 200)}`);
  return JSON.parse(m[1]!) as { message: LatchPopupMessage; origin: string; fallback: string };
}

const errorCode = (res: HttpResult) => (res.json() as { error?: { code?: string } }).error?.code;
const sessionSetCookies = (res: HttpResult) =>
  res.setCookies.filter((c) => /^(__Host-|__Secure-)?latch(-p)?(\.\d)?=/.test(c) && !/^[^=]+=;/.test(c));

describe('the partitioned hand-off (POST /handoff)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ siteOrigin: SITE, env: { LATCH_ALLOWED_ORIGINS: `${SITE},${OTHER}`, LATCH_HANDOFF: 'true' } });
  });
  after(() => stack?.close());

  /** A popup sign-in with a hand-off challenge: the callback's answer and the code it posts. */
  async function handoffSignIn(verifier = newVerifier(), returnTo = `${SITE}/shop`) {
    const client = new HttpClient();
    const url = `${stack.bffUrl}/login?returnTo=${encodeURIComponent(returnTo)}&mode=popup&handoff=${challengeOf(verifier)}`;
    const { callbackResult } = await signIn(client, url, stack.user);
    assert.ok(callbackResult, 'the callback answered');
    assert.equal(callbackResult.status, 200);
    const posted = popupPost(callbackResult);
    assert.ok(posted.message.ok && posted.message.code, `a code was posted: ${JSON.stringify(posted.message)}`);
    return { client, verifier, code: posted.message.code, callback: callbackResult, posted };
  }

  /** A page's fetch to POST /handoff: from `origin`, with the CSRF header, JSON. */
  function redeem(body: unknown, opts: { origin?: string; csrf?: boolean; client?: HttpClient } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json', origin: opts.origin ?? SITE };
    if (opts.csrf !== false) headers['latch-csrf'] = '1';
    return (opts.client ?? new HttpClient()).request(`${stack.bffUrl}/handoff`, { method: 'POST', headers, body: JSON.stringify(body) });
  }

  function assertRefused(res: HttpResult, status: number, code: string, label: string) {
    assert.equal(res.status, status, `${label}: ${res.text}`);
    assert.equal(errorCode(res), code, label);
    assert.deepEqual(sessionSetCookies(res), [], `${label}: no session cookie`);
  }

  it('signs in without a session cookie, posts the code to the opener\'s exact origin only, and redeems it into a partitioned cookie', async () => {
    const { verifier, code, callback, posted } = await handoffSignIn();
    assert.deepEqual(sessionSetCookies(callback), [], 'the callback sets no session cookie: nothing depends on a third-party cookie');
    assert.equal(posted.origin, SITE, 'posted to the opener\'s exact origin');
    assert.equal(posted.fallback.includes(code), false, 'the code never travels in a URL');
    assert.match(callback.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);

    const page = new HttpClient();
    const res = await redeem({ code, verifier }, { client: page });
    assert.equal(res.status, 200, res.text);
    const me = res.json() as { user: { sub: string }; expiresAt: number };
    assert.equal(me.user.sub, stack.provider.users[0]!.sub);
    assert.ok(me.expiresAt > Date.now());
    const [cookie, ...more] = sessionSetCookies(res);
    assert.equal(more.length, 0);
    assert.ok(cookie?.startsWith(`${PARTITIONED}=`), cookie);
    for (const attribute of [/; Path=\//, /; HttpOnly/, /; Secure/, /; SameSite=None/, /; Partitioned/]) assert.match(cookie!, attribute);
    assert.equal(res.headers.get('access-control-allow-origin'), SITE);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');

    // The page's later calls carry the partitioned cookie: /me, then /logout, which clears it with the same attributes.
    const again = await page.request(`${stack.bffUrl}/me`, { headers: { origin: SITE, 'sec-fetch-site': 'cross-site' } });
    assert.equal(again.status, 200, again.text);
    assert.equal((again.json() as { sameSite: unknown }).sameSite, false, '/me says the page is not same-site');
    const out = await page.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
    assert.equal(out.status, 200, out.text);
    const cleared = out.setCookies.find((c) => c.startsWith(`${PARTITIONED}=;`));
    assert.ok(cleared, 'the partitioned cookie is cleared');
    for (const attribute of [/; Path=\//, /; Secure/, /; SameSite=None/, /; Partitioned/, /Max-Age=0|Expires=Thu, 01 Jan 1970/i]) assert.match(cleared!, attribute);
    const gone = await page.request(`${stack.bffUrl}/me`, { headers: { origin: SITE } });
    assert.equal(gone.status, 401);
    assert.equal(errorCode(gone), 'LATCH_UNAUTHENTICATED');
  });

  it('a session from a hand-off ends on logout everywhere, like any other (the copy of the cookie is refused)', async () => {
    const { verifier, code } = await handoffSignIn();
    const page = new HttpClient();
    assert.equal((await redeem({ code, verifier }, { client: page })).status, 200);
    const copy = await page.jar.getCookieString(stack.bffUrl);
    await page.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
    const replay = await new HttpClient().request(`${stack.bffUrl}/me`, { headers: { cookie: copy } });
    assert.equal(replay.status, 401, 'the deny-list refuses the copy');
  });

  it('looks for the partitioned cookie by name: a cookie whose value holds "__Host-latch-p=" changes nothing, /me works and /logout ends the real session', async () => {
    const client = new HttpClient();
    await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`, stack.user);
    const real = await client.jar.getCookieString(stack.bffUrl);
    assert.match(real, /(^|; )latch=/, 'signed in with the site cookie');
    // Any cookie on the BFF's host (a sibling's, an analytics one) may carry that text in its value.
    const decoys = [`note=${PARTITIONED}=x`, `"q"="${PARTITIONED}=1"`, `z=a%3B${PARTITIONED}=1`];
    for (const decoy of decoys) {
      const me = await client.request(`${stack.bffUrl}/me`, { headers: { cookie: decoy } });
      assert.equal(me.status, 200, `${decoy}: ${me.text}`);
    }
    const copy = `${real}; ${decoys[0]}`;
    const out = await client.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1', cookie: decoys[0]! } });
    assert.equal(out.status, 200, out.text);
    const replay = await new HttpClient().request(`${stack.bffUrl}/me`, { headers: { cookie: copy } });
    assert.equal(replay.status, 401, 'the session the cookie held was ended, so a copy of it is refused');
    assert.equal(errorCode(replay), 'LATCH_UNAUTHENTICATED');
  });

  it('ends every session whose cookie a logout carries: the site cookie and the partitioned one', async () => {
    const page = new HttpClient();
    await signIn(page, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}`, stack.user);
    const { verifier, code } = await handoffSignIn();
    assert.equal((await redeem({ code, verifier }, { client: page })).status, 200);
    const both = await page.jar.getCookieString(stack.bffUrl);
    assert.match(both, /(^|; )latch=/);
    assert.match(both, new RegExp(`(^|; )${PARTITIONED}=`));
    const site = both.split('; ').filter((c) => !c.startsWith(`${PARTITIONED}=`)).join('; ');
    const partitioned = both.split('; ').filter((c) => c.startsWith(`${PARTITIONED}=`)).join('; ');
    assert.equal((await new HttpClient().request(`${stack.bffUrl}/me`, { headers: { cookie: site } })).status, 200);
    assert.equal((await new HttpClient().request(`${stack.bffUrl}/me`, { headers: { cookie: partitioned } })).status, 200);
    const out = await page.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
    assert.equal(out.status, 200, out.text);
    for (const [name, cookie] of [['site', site], ['partitioned', partitioned]] as const) {
      const replay = await new HttpClient().request(`${stack.bffUrl}/me`, { headers: { cookie } });
      assert.equal(replay.status, 401, `a copy of the ${name} cookie is refused after the logout`);
    }
  });

  it('refuses a code redeemed twice', async () => {
    const { verifier, code } = await handoffSignIn();
    assert.equal((await redeem({ code, verifier })).status, 200);
    assertRefused(await redeem({ code, verifier }), 400, 'LATCH_HANDOFF_INVALID', 'second redemption');
  });

  it('refuses a late code (after its 60 s)', async () => {
    const { verifier, code } = await handoffSignIn();
    // Age the code's record as the store holds it, rather than wait: its redeemable end is now past.
    const { sessions } = stack.app.latch;
    const sealed = await sessions.store.get(handoffKey(code));
    assert.ok(sealed, 'the store holds the code\'s record (under a digest of the code)');
    assert.equal(sealed.includes(code), false);
    const record = await sessions.sealer.unseal<{ exp: number }>(sealed);
    assert.ok(record && record.exp > Date.now() && record.exp <= Date.now() + 60_000, 'redeemable for 60 s at most');
    await sessions.store.set(handoffKey(code), await sessions.sealer.seal({ ...record, exp: Date.now() - 1 }, 120), 120_000);
    assertRefused(await redeem({ code, verifier }), 400, 'LATCH_HANDOFF_EXPIRED', 'late');
    assertRefused(await redeem({ code, verifier }), 400, 'LATCH_HANDOFF_INVALID', 'and spent');
  });

  it('refuses a code from another allowed origin, and burns it', async () => {
    const { verifier, code } = await handoffSignIn();
    assertRefused(await redeem({ code, verifier }, { origin: OTHER }), 403, 'LATCH_HANDOFF_ORIGIN', 'another allowed origin');
    assertRefused(await redeem({ code, verifier }), 400, 'LATCH_HANDOFF_INVALID', 'the right origin afterwards');
  });

  it('refuses an origin that is not allowed, and a request without the CSRF header, before looking at the code', async () => {
    const { verifier, code } = await handoffSignIn();
    assertRefused(await redeem({ code, verifier }, { origin: 'https://evil.test' }), 403, 'LATCH_ORIGIN_NOT_ALLOWED', 'unlisted origin');
    const preflight = await new HttpClient().request(`${stack.bffUrl}/handoff`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,latch-csrf' },
    });
    assert.equal(preflight.status, 403, 'the preflight is refused');
    assertRefused(await redeem({ code, verifier }, { csrf: false }), 403, 'LATCH_CSRF', 'no Latch-CSRF');
    // Neither touched the code: the page itself can still redeem it.
    assert.equal((await redeem({ code, verifier })).status, 200);
  });

  it('refuses a code without its verifier, and burns it', async () => {
    const { verifier, code } = await handoffSignIn();
    assertRefused(await redeem({ code }), 403, 'LATCH_HANDOFF_VERIFIER', 'no verifier');
    assertRefused(await redeem({ code, verifier }), 400, 'LATCH_HANDOFF_INVALID', 'then with it');
  });

  it('refuses a code with a wrong verifier (another valid one, or the challenge itself), and burns it', async () => {
    const first = await handoffSignIn();
    assertRefused(await redeem({ code: first.code, verifier: newVerifier() }), 403, 'LATCH_HANDOFF_VERIFIER', 'another verifier');
    assertRefused(await redeem({ code: first.code, verifier: first.verifier }), 400, 'LATCH_HANDOFF_INVALID', 'then the right one');
    const second = await handoffSignIn();
    assertRefused(await redeem({ code: second.code, verifier: challengeOf(second.verifier) }), 403, 'LATCH_HANDOFF_VERIFIER', 'the challenge as verifier');
  });

  it('refuses unknown, malformed and missing codes and bodies', async () => {
    const verifier = newVerifier();
    assertRefused(await redeem({ code: randomBytes(32).toString('base64url'), verifier }), 400, 'LATCH_HANDOFF_INVALID', 'unknown code');
    assertRefused(await redeem({ code: 'x'.repeat(200), verifier }), 400, 'LATCH_HANDOFF_INVALID', 'long code');
    assertRefused(await redeem({ code: 'x'.repeat(5000), verifier }), 413, 'LATCH_BODY_TOO_LARGE', 'a body over 1 KB');
    assertRefused(await redeem({ verifier }), 400, 'LATCH_HANDOFF_INVALID', 'no code');
    assertRefused(await redeem([1, 2]), 400, 'LATCH_HANDOFF_INVALID', 'an array');
    const notJson = await new HttpClient().request(`${stack.bffUrl}/handoff`, {
      method: 'POST', headers: { origin: SITE, 'latch-csrf': '1', 'content-type': 'text/plain' }, body: 'code=x',
    });
    assertRefused(notJson, 400, 'LATCH_HANDOFF_INVALID', 'not JSON');
  });

  it('refuses a sign-in with a malformed challenge, and never issues a code for a failed sign-in', async () => {
    const client = new HttpClient();
    const bad = await client.request(`${stack.bffUrl}/login?returnTo=${encodeURIComponent(SITE + '/')}&handoff=plain-text`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /LATCH_BAD_REQUEST/);

    const cancelled = await signIn(new HttpClient(), `${stack.bffUrl}/login?returnTo=${encodeURIComponent(SITE + '/')}&handoff=${challengeOf(newVerifier())}`, stack.user, { cancel: true });
    const posted = popupPost(cancelled.callbackResult!);
    assert.equal(posted.message.ok, false);
    assert.equal(posted.message.code, undefined);
  });
});

describe('the hand-off is off by default', () => {
  // Answered in memory: the refusals come before any call to the authorization server.
  const bff = memoryBff({ LATCH_ALLOWED_ORIGINS: SITE });

  it('refuses /login?handoff= and has no POST /handoff', async () => {
    const client = bff.client();
    const res = await client.request(`${bff.url}/login?returnTo=${encodeURIComponent(SITE + '/')}&handoff=${challengeOf(newVerifier())}`);
    assert.equal(res.status, 400);
    assert.match(res.text, /data-code="LATCH_HANDOFF_DISABLED"/);
    assert.match(res.text, /LATCH_HANDOFF=true/);
    const post = await client.request(`${bff.url}/handoff`, {
      method: 'POST', headers: { origin: SITE, 'latch-csrf': '1', 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(post.status, 404);
  });
});

describe('the sign-in proof (detecting blocked third-party cookies)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ siteOrigin: SITE });
  });
  after(() => stack?.close());

  it('comes back only when asked for (proof=1), and /me without the cookie then says LATCH_THIRD_PARTY_COOKIES_BLOCKED, once', async () => {
    const plain = await signIn(new HttpClient(), `${stack.bffUrl}/login?returnTo=${encodeURIComponent(SITE + '/p?x=1')}`, stack.user);
    assert.equal(plain.finalUrl.href, `${SITE}/p?x=1`, 'unchanged without proof=1');

    const client = new HttpClient();
    const { finalUrl } = await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(SITE + '/p?x=1')}&proof=1`, stack.user);
    const proof = finalUrl.searchParams.get('latch_proof');
    assert.ok(proof, `latch_proof on the way back: ${finalUrl.href}`);
    assert.equal(finalUrl.searchParams.get('x'), '1', 'the page\'s own parameters are kept');

    // The browser that signed in has the cookie: /me works, and says whether the page is same-site.
    for (const [site, expected] of [['same-site', true], ['same-origin', true], ['cross-site', false], [undefined, null]] as const) {
      const me = await client.request(`${stack.bffUrl}/me?proof=${proof}`, { headers: site ? { 'sec-fetch-site': site } : {} });
      assert.equal(me.status, 200);
      assert.equal((me.json() as { sameSite: unknown }).sameSite, expected, `Sec-Fetch-Site ${site}`);
    }
    // A page whose browser kept the cookie back: the proof says it signed in a moment ago.
    const blocked = await new HttpClient().request(`${stack.bffUrl}/me?proof=${encodeURIComponent(proof)}`, { headers: { origin: SITE } });
    assert.equal(blocked.status, 401);
    assert.equal(errorCode(blocked), 'LATCH_THIRD_PARTY_COOKIES_BLOCKED');
    assert.match((blocked.json() as { error: { message: string } }).error.message, /docs\/embedding\.md/);
    assert.equal(blocked.headers.get('access-control-allow-origin'), SITE, 'readable by the page');
    const twice = await new HttpClient().request(`${stack.bffUrl}/me?proof=${encodeURIComponent(proof)}`);
    assert.equal(errorCode(twice), 'LATCH_UNAUTHENTICATED', 'a proof counts once');
  });

  it('tells a signed-out page where it stands: every 401 of /me carries sameSite beside its error', async () => {
    for (const [site, expected] of [['same-site', true], ['same-origin', true], ['cross-site', false], [undefined, null]] as const) {
      const res = await new HttpClient().request(`${stack.bffUrl}/me`, { headers: { origin: SITE, ...(site ? { 'sec-fetch-site': site } : {}) } });
      assert.equal(res.status, 401);
      const body = res.json() as { error: { code: string; message: string }; sameSite: unknown };
      assert.equal(body.error.code, 'LATCH_UNAUTHENTICATED', 'the error shape is kept');
      assert.equal(typeof body.error.message, 'string');
      assert.equal(body.sameSite, expected, `Sec-Fetch-Site ${site}`);
      assert.equal(res.headers.get('access-control-allow-origin'), SITE, 'readable by the page');
    }
    // The blocked-cookies answer says it too.
    const { finalUrl } = await signIn(new HttpClient(), `${stack.bffUrl}/login?returnTo=${encodeURIComponent(SITE + '/')}&proof=1`, stack.user);
    const blocked = await new HttpClient().request(`${stack.bffUrl}/me?proof=${encodeURIComponent(finalUrl.searchParams.get('latch_proof')!)}`, { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(errorCode(blocked), 'LATCH_THIRD_PARTY_COOKIES_BLOCKED');
    assert.equal((blocked.json() as { sameSite: unknown }).sameSite, false);
  });

  it('ignores forged, foreign and expired proofs', async () => {
    const { sessions } = stack.app.latch;
    const forged = [
      'garbage',
      'Fe26.2**abc',
      await sessions.sealer.seal({ t: 'proof', sid: 'x', exp: Date.now() - 1000 }, 120),
      await sessions.sealer.seal({ t: 'session', sid: 'x', exp: Date.now() + 60_000 }, 120),
    ];
    for (const proof of forged) {
      const res = await new HttpClient().request(`${stack.bffUrl}/me?proof=${encodeURIComponent(proof)}`);
      assert.equal(errorCode(res), 'LATCH_UNAUTHENTICATED', proof.slice(0, 40));
    }
  });

  it('travels in the popup\'s message too', async () => {
    const { callbackResult } = await signIn(new HttpClient(), `${stack.bffUrl}/login?returnTo=${encodeURIComponent(SITE + '/')}&mode=popup&proof=1`, stack.user);
    const posted = popupPost(callbackResult!);
    assert.ok(posted.message.ok && posted.message.proof);
    assert.equal(posted.message.code, undefined);
  });
});

describe('a hand-off session too large for one partitioned cookie', () => {
  let stack: Stack;
  // Enough groups that the session seals to about 10.5 KB: three cookies, over the 10 KiB Chromium keeps
  // of partitioned cookies per site and partition (CHIPS), which the first chunk then fell out of.
  const groups = Array.from({ length: GROUPS }, (_, i) => `engineering-platform-group-${String(i).padStart(3, '0')}`);
  before(async () => {
    const password = randomBytes(12).toString('base64url');
    stack = await startStack({
      siteOrigin: SITE,
      env: { LATCH_HANDOFF: 'true' },
      provider: { users: [{ sub: 'user-big', login: 'big@latch.test', password, name: 'Big Groups', email: 'big@latch.test', email_verified: true, extra: { groups } }] },
    });
  });
  after(() => stack?.close());

  it('keeps it in the store behind one small partitioned cookie: /me has every claim, logout deletes it', async () => {
    const verifier = newVerifier();
    const popup = await signIn(new HttpClient(), `${stack.bffUrl}/login?returnTo=${encodeURIComponent(`${SITE}/`)}&mode=popup&handoff=${challengeOf(verifier)}`, stack.user);
    const { code } = popupPost(popup.callbackResult!).message;
    const page = new HttpClient();
    const res = await page.request(`${stack.bffUrl}/handoff`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: SITE, 'latch-csrf': '1' }, body: JSON.stringify({ code, verifier }),
    });
    assert.equal(res.status, 200, res.text);
    const set = sessionSetCookies(res);
    assert.equal(set.length, 1, set.map((c) => c.split('=')[0]).join(', '));
    assert.ok(set[0]!.startsWith(`${PARTITIONED}=`));
    assert.ok(set[0]!.length < 1024, `the partitioned cookie is ${set[0]!.length} bytes`);
    // What the cookie stands for would have sealed to more than the browser keeps.
    const { sessions, sites } = stack.app.latch;
    const partitioned = sites.all[0]!.partitioned!;
    assert.equal(partitioned.name, PARTITIONED);
    const cookie = await page.jar.getCookieString(stack.bffUrl);
    const read = await partitioned.read(cookie);
    assert.ok(read);
    const full = await sessions.sealer.seal(read.session, 3600);
    assert.ok(full.length > 10 * 1024 && full.length <= 3 * 3800, `the session seals to ${full.length} bytes`);
    assert.ok(await sessions.store.get(storeKeys.session(read.session.sid)), 'kept in the store');

    const me = await page.request(`${stack.bffUrl}/me`, { headers: { origin: SITE } });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual((me.json() as { user: { groups: string[] } }).user.groups, groups);
    const out = await page.request(`${stack.bffUrl}/logout`, { method: 'POST', headers: { origin: SITE, 'latch-csrf': '1' } });
    assert.equal(out.status, 200);
    assert.equal(await sessions.store.get(storeKeys.session(read.session.sid)), null, 'the record is deleted at logout');
    assert.equal((await new HttpClient().request(`${stack.bffUrl}/me`, { headers: { cookie } })).status, 401);
  });
});

/**
 * GET /sessions and DELETE /sessions/<id> (bff/routes/sessions.ts) against a real oidc-provider: a user
 * sees and ends their own sessions only, by public id; an ended session's cookie is dead at its next
 * request; sign out everywhere still ends (and unlists) every one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionsResponse } from '../../../bff/contract.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { errorCode, get, loginUrl, post, sessionCookieHeader, SITE, startSecStack, type SecStack } from '../../security/support.ts';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

describe('GET /sessions, DELETE /sessions/<id>', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack();
  });
  after(async () => {
    await stack?.close();
  });

  /** A sign-in of user `index` from a browser that says `userAgent`: its Cookie header. */
  async function session(index: number, userAgent: string): Promise<string> {
    const client = new HttpClient({ defaultHeaders: { 'user-agent': userAgent } });
    const user = stack.users[index]!;
    const { callbackResult } = await signIn(client, loginUrl(stack.bffUrl), { login: user.login, password: user.password });
    assert.equal(callbackResult?.status, 302);
    return sessionCookieHeader(callbackResult!.setCookies);
  }
  const list = async (cookie: string) => {
    const res = await get(`${stack.bffUrl}/sessions`, { cookie, origin: SITE });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('access-control-allow-origin'), SITE);
    return res.json<SessionsResponse>().sessions;
  };
  const del = (cookie: string, id: string, headers: Record<string, string> = { 'latch-csrf': '1' }) =>
    new HttpClient().request(`${stack.bffUrl}/sessions/${id}`, { method: 'DELETE', headers: { cookie, origin: SITE, ...headers } });
  const me = (cookie: string) => get(`${stack.bffUrl}/me`, { cookie, origin: SITE });

  it('lists the user\'s own sessions: public ids, times, provider, device label, which is current; never tokens or session ids', async () => {
    const laptop = await session(1, FIREFOX_LINUX);
    const phone = await session(1, SAFARI_IOS);
    await session(0, FIREFOX_LINUX); // another user's
    const sessions = await list(phone);
    assert.equal(sessions.length, 2);
    assert.deepEqual(sessions.map((s) => s.device), ['Firefox on Linux', 'Safari on iOS']);
    assert.deepEqual(sessions.map((s) => s.current), [false, true]);
    for (const s of sessions) {
      assert.match(s.id, /^[A-Za-z0-9_-]{32}$/);
      assert.equal(s.provider, 'default');
      assert.ok(s.createdAt <= s.lastSeenAt && s.lastSeenAt <= Date.now());
    }
    const { session: read } = (await stack.bff.app.latch.sites.all[0]!.cookies.read(laptop))!;
    const body = JSON.stringify(sessions);
    for (const secret of [read.sid, read.at, read.rt, read.idt]) if (secret) assert.ok(!body.includes(secret), 'no session id or token in the list');
    assert.deepEqual((await list(laptop)).map((s) => s.current), [true, false]);
  });

  it('ends another session of the same user by its id: 204, and that cookie is dead at its next request', async () => {
    const mine = await session(1, FIREFOX_LINUX);
    const other = await session(1, SAFARI_IOS);
    const target = (await list(other)).find((s) => s.current)!;
    const res = await del(mine, target.id);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.setCookies.length, 0, 'the caller keeps its own session');
    assert.equal((await me(other)).status, 401);
    assert.equal(errorCode(await me(other)), 'LATCH_UNAUTHENTICATED');
    assert.equal((await me(mine)).status, 200);
    assert.ok(!(await list(mine)).some((s) => s.id === target.id), 'unlisted');
    assert.equal((await del(mine, target.id)).status, 404, 'ending it again: no such session');
  });

  it('never shows or ends another user\'s session: 404 LATCH_NOT_FOUND, the same as an unknown id, and that session lives on', async () => {
    const dana = await session(0, FIREFOX_LINUX);
    const erin = await session(1, FIREFOX_LINUX);
    const danaIds = (await list(dana)).map((s) => s.id);
    const erinIds = (await list(erin)).map((s) => s.id);
    assert.ok(danaIds.every((id) => !erinIds.includes(id)), 'each sees only their own');
    const foreign = (await list(dana)).find((s) => s.current)!.id;
    const res = await del(erin, foreign);
    assert.equal(res.status, 404);
    assert.equal(errorCode(res), 'LATCH_NOT_FOUND');
    const unknown = await del(erin, 'A'.repeat(32));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.text, res.text, 'another user\'s id and an unknown one answer alike');
    for (const bad of ['..', '%2e%2e', 'x'.repeat(200)]) assert.equal((await del(erin, bad)).status, 404, bad);
    assert.equal((await me(dana)).status, 200, 'the other user\'s session lives on');
  });

  it('refuses DELETE without the CSRF header or from another origin, like /logout; GET needs a session', async () => {
    const cookie = await session(0, FIREFOX_LINUX);
    const id = (await list(cookie))[0]!.id;
    assert.equal(errorCode(await del(cookie, id, {})), 'LATCH_CSRF');
    const foreign = await new HttpClient().request(`${stack.bffUrl}/sessions/${id}`, { method: 'DELETE', headers: { cookie, origin: 'https://evil.example', 'latch-csrf': '1' } });
    assert.equal(foreign.status, 403);
    assert.equal(errorCode(foreign), 'LATCH_ORIGIN_NOT_ALLOWED');
    assert.equal((await me(cookie)).status, 200);
    const anonymous = await get(`${stack.bffUrl}/sessions`, { origin: SITE });
    assert.equal(anonymous.status, 401);
    assert.equal(errorCode(anonymous), 'LATCH_UNAUTHENTICATED');
  });

  it('ends the current session by its id as a logout: cookies cleared, the cookie refused afterwards', async () => {
    const cookie = await session(0, FIREFOX_LINUX);
    const id = (await list(cookie)).find((s) => s.current)!.id;
    const res = await del(cookie, id);
    assert.equal(res.status, 204);
    assert.ok(res.setCookies.some((c) => /^latch=;/.test(c)), 'the session cookie is cleared');
    assert.equal((await me(cookie)).status, 401);
  });

  it('POST /logout?everywhere=1 still ends every session of the user, and unlists them', async () => {
    const one = await session(1, FIREFOX_LINUX);
    const two = await session(1, SAFARI_IOS);
    const out = await post(`${stack.bffUrl}/logout?everywhere=1`, { cookie: one, origin: SITE, 'latch-csrf': '1' });
    assert.equal(out.status, 200);
    assert.equal((await me(two)).status, 401);
    await new Promise((r) => setTimeout(r, 1100)); // sessions created within the deny-list's clock skew (1 s) count as before it
    const three = await session(1, FIREFOX_LINUX);
    assert.deepEqual((await list(three)).map((s) => s.current), [true], 'only the session signed in since');
  });
});

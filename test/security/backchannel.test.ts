/**
 * POST /backchannel-logout (OpenID Connect Back-Channel Logout 1.0). The real oidc-provider sends
 * a logout token when the user signs out there; the interceptor (evil-as.ts) signs forged ones with
 * a key in the JWKS the BFF trusts, so each rule of §2.6 is tested on its own: one defect, everything
 * else valid. An invalid token is 400 and ends nothing; a valid one ends the matching sessions, and
 * the next request with their cookies is 401.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../bff/routes/backchannel.ts';
import { completeProviderLogout } from '../helpers/http.ts';
import type { Claims, SignMode } from './evil-as.ts';
import { assertRefused, errorCode, get, post, signedIn, sleep, startSecStack, type SecStack } from './support.ts';

const now = () => Math.floor(Date.now() / 1000);
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('POST /backchannel-logout', () => {
  let stack: SecStack;
  let dana: string;
  before(async () => {
    stack = await startSecStack({ interceptor: true, backchannel: true });
    ({ cookie: dana } = await signedIn(stack, 0));
  });
  after(() => stack.close());

  const claims = (over: Claims = {}): Claims => ({
    iss: stack.provider.issuer,
    aud: stack.clientId,
    iat: now(),
    exp: now() + 120,
    jti: randomUUID(),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    sub: 'user-dana',
    ...over,
  });
  const send = async (token: string, headers: Record<string, string> = FORM) =>
    post(`${stack.bffUrl}/backchannel-logout`, headers, new URLSearchParams({ logout_token: token }).toString());
  const forge = (over: Claims = {}, mode: SignMode = 'valid', header: Record<string, unknown> = { typ: 'logout+jwt' }) =>
    stack.interceptor!.sign(JSON.parse(JSON.stringify(claims(over))) as Claims, mode, header);
  const alive = async (cookie: string) => (await get(`${stack.bffUrl}/me`, { cookie })).status;

  describe('refuses an invalid logout token with 400, ending nothing', () => {
    const cases: Array<[string, () => Promise<string>]> = [
      ['no events claim', () => forge({ events: undefined })],
      ['an events claim without the back-channel logout event', () => forge({ events: { 'http://schemas.openid.net/event/other': {} } })],
      ['an event member that is not an object', () => forge({ events: { [BACKCHANNEL_LOGOUT_EVENT]: true } })],
      ['a nonce', () => forge({ nonce: 'n-0S6_WzA2Mj' })],
      ['neither sub nor sid', () => forge({ sub: undefined })],
      ['no jti', () => forge({ jti: undefined })],
      ['typ JWT (an ID token type)', () => forge({}, 'valid', { typ: 'JWT' })],
      ['the wrong aud', () => forge({ aud: 'another-client' })],
      ['the wrong iss', () => forge({ iss: 'https://evil.example' })],
      ['an expired token', () => forge({ iat: now() - 600, exp: now() - 300 })],
      ['an iat in the future', () => forge({ iat: now() + 600, exp: now() + 900 })],
      ['an iat more than five minutes old', () => forge({ iat: now() - 900, exp: now() + 900 })],
      ['no exp', () => forge({ exp: undefined })],
      ['alg none', () => forge({}, 'none')],
      ['a corrupted signature', () => forge({}, 'bad-signature')],
      ['HS256 signed with the public key', () => forge({}, 'hs256-public-key')],
      ['a key that is not in the JWKS', () => forge({}, 'unknown-key')],
      ['garbage', async () => 'not.a.jwt'],
    ];
    for (const [name, make] of cases) {
      it(`with ${name}`, async () => {
        const res = await send(await make());
        assertRefused(res, 400, 'LATCH_BAD_REQUEST', name);
        assert.equal(await alive(dana), 200, 'the session lives on');
      });
    }

    it('with the ID token of a sign-in instead of a logout token', async () => {
      const read = await stack.bff.app.latch.sites.all[0]!.cookies.read(dana);
      assertRefused(await send(read!.session.idt!), 400, 'LATCH_BAD_REQUEST', 'ID token');
      assert.equal(await alive(dana), 200);
    });

    it('with a JSON body instead of a form', async () => {
      const res = await post(`${stack.bffUrl}/backchannel-logout`, { 'content-type': 'application/json' }, JSON.stringify({ logout_token: await forge() }));
      assertRefused(res, 400, 'LATCH_BAD_REQUEST', 'json');
    });

    it('with two logout_token parameters, or none', async () => {
      const token = await forge();
      assertRefused(await post(`${stack.bffUrl}/backchannel-logout`, FORM, `logout_token=${token}&logout_token=${token}`), 400, 'LATCH_BAD_REQUEST', 'two');
      assertRefused(await post(`${stack.bffUrl}/backchannel-logout`, FORM, 'other=1'), 400, 'LATCH_BAD_REQUEST', 'none');
      assert.equal(await alive(dana), 200);
    });

    it('with a body over 16 KB (413 LATCH_BODY_TOO_LARGE)', async () => {
      const res = await post(`${stack.bffUrl}/backchannel-logout`, FORM, `logout_token=${'a'.repeat(17 * 1024)}`);
      assertRefused(res, 413, 'LATCH_BODY_TOO_LARGE', 'large');
    });

    it('to GET (405): GET never changes state', async () => {
      const res = await get(`${stack.bffUrl}/backchannel-logout?logout_token=${await forge()}`);
      assert.equal(res.status, 405);
      assert.equal(await alive(dana), 200);
    });
  });

  describe('ends sessions for a valid logout token', () => {
    it('with sid: ends the sessions of that provider session only, without CSRF header or Origin', async () => {
      const a = await signedIn(stack, 0);
      const b = await signedIn(stack, 0);
      const psid = (await stack.bff.app.latch.sites.all[0]!.cookies.read(a.cookie))!.session.psid;
      assert.ok(psid, 'the session knows the provider session id (sid claim)');
      const res = await send(await forge({ sub: undefined, sid: psid }));
      assert.equal(res.status, 200, res.text);
      assert.equal(await alive(a.cookie), 401);
      assert.equal(await alive(b.cookie), 200, 'another provider session of the same user lives on');
      const audit = stack.bff.audits.find((e) => e.type === 'backchannel_logout' && e.psid === psid);
      assert.ok(audit, 'audited');
      assert.ok(stack.bff.logs.some((l) => l.includes('"audit: backchannel_logout"')), 'logged');
    });

    it('refuses the same token twice (jti replay)', async () => {
      const token = await forge({ sub: undefined, sid: 'some-provider-session' });
      assert.equal((await send(token)).status, 200);
      const again = await send(token);
      assertRefused(again, 400, 'LATCH_BAD_REQUEST', 'replay');
    });

    it('accepts typ application/logout+jwt and a token without typ', async () => {
      assert.equal((await send(await forge({ sub: undefined, sid: 'x1' }, 'valid', { typ: 'application/logout+jwt' }))).status, 200);
      assert.equal((await send(await forge({ sub: undefined, sid: 'x2' }, 'valid', {}))).status, 200);
    });

    it('with only sub: ends every session of the user created before it, not other users\', not later ones', async () => {
      const erin1 = await signedIn(stack, 1);
      const erin2 = await signedIn(stack, 1);
      const res = await send(await forge({ sub: 'user-erin' }));
      assert.equal(res.status, 200);
      assert.equal(await alive(erin1.cookie), 401);
      assert.equal(await alive(erin2.cookie), 401);
      assert.equal(await alive(dana), 200, 'other users are not affected');
      await sleep(1100); // the deny-list allows a second of clock skew between instances
      const later = await signedIn(stack, 1);
      assert.equal(await alive(later.cookie), 200, 'a sign-in after the logout works');
    });

    it('ends the session when the user signs out at the provider (the real oidc-provider sends the token)', async () => {
      const { client, cookie } = await signedIn(stack, 0);
      assert.equal(await alive(cookie), 200);
      const psid = (await stack.bff.app.latch.sites.all[0]!.cookies.read(cookie))!.session.psid;
      await completeProviderLogout(client, `${stack.provider.issuer}/session/end`);
      let status = 0;
      for (let i = 0; i < 40 && status !== 401; i++) {
        status = await alive(cookie);
        if (status !== 401) await sleep(50);
      }
      assert.equal(status, 401);
      const res = await get(`${stack.bffUrl}/me`, { cookie });
      assert.equal(errorCode(res), 'LATCH_UNAUTHENTICATED');
      assert.ok(stack.bff.audits.some((e) => e.type === 'backchannel_logout' && e.psid === psid), 'the provider\'s own logout token did it');
    });
  });
});

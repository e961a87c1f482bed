/**
 * The OpenID conformance suite's RP-Initiated Logout RP and Back-Channel Logout RP plans
 * (OIDCCClientRPInitiatedLogoutRPBasicTestPlan, OIDCCClientBackChannelLogoutRPBasicTestPlan). The
 * positive modules run against the real oidc-provider: its end-session endpoint, and the logout
 * token it sends itself. The negative ones post the logout token each module's server sends, signed
 * by the interceptor with a key in the JWKS the BFF trusts, one defect each: 400, and nothing ends.
 * See docs/conformance.md.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../bff/routes/backchannel.ts';
import { completeProviderLogout, followLogoutHandle } from '../helpers/http.ts';
import type { Claims, SignMode } from '../security/evil-as.ts';
import { get, post, quickCallback, sessionCookieHeader, signedIn, SITE, sleep, type SecStack } from '../security/support.ts';
import { assertRefusedCleanly, startBatteryStack } from './support.ts';

const now = () => Math.floor(Date.now() / 1000);
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('OpenID conformance: RP-Initiated Logout RP and Back-Channel Logout RP plans', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startBatteryStack();
  });
  after(() => stack.close());

  const alive = async (cookie: string) => (await get(`${stack.bffUrl}/me`, { cookie })).status;
  const logout = (cookie: string) => post(`${stack.bffUrl}/logout`, { cookie, origin: SITE, 'latch-csrf': '1' });
  /** Waits for the provider's own back-channel request to have reached the BFF. */
  const endsSoon = async (cookie: string) => {
    let status = 0;
    for (let i = 0; i < 40 && status !== 401; i++) {
      status = await alive(cookie);
      if (status !== 401) await sleep(50);
    }
    return status;
  };

  it('oidcc-client-test-rp-init-logout: sends the browser (through the BFF, so the page never holds the hint) to the end-session endpoint with id_token_hint and post_logout_redirect_uri, and lands back on the page signed out', async () => {
    const { client, cookie } = await signedIn(stack);
    const res = await logout(cookie);
    assert.equal(res.status, 200, res.text);
    const { logoutUrl } = res.json<{ logoutUrl: string }>();
    assert.equal(new URL(logoutUrl).origin, new URL(stack.bffUrl).origin, 'the page is given a URL of the BFF');
    assert.doesNotMatch(logoutUrl, /id_token_hint|eyJ[\w-]*\.[\w-]*\./, 'and no ID token');
    const end = await followLogoutHandle(client, logoutUrl);
    assert.equal(`${end.origin}${end.pathname}`, `${stack.provider.issuer}/session/end`);
    assert.ok(end.searchParams.get('id_token_hint'), 'id_token_hint');
    assert.equal(end.searchParams.get('client_id'), stack.clientId);
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${SITE}/`);
    // rp-init-logout-other-state and -no-state are skipped by the suite for an RP that sends no state.
    assert.equal(end.searchParams.has('state'), false, 'no state');
    assert.equal(await alive(cookie), 401, 'signed out at the BFF before the browser leaves');
    const { finalUrl } = await completeProviderLogout(client, end.href);
    assert.equal(finalUrl.href, `${SITE}/`, 'the provider sent the browser back to the page');
  });

  it('oidcc-client-test-rp-backchannel-rpinitlogout: answers the provider\'s own logout token with 200, ending every session of that provider session', async () => {
    const { client, cookie: first } = await signedIn(stack);
    // A second BFF session from the same provider session (another tab's sign-in, no form).
    const second = sessionCookieHeader((await quickCallback(client, stack.bffUrl)).setCookies);
    assert.equal(await alive(second), 200);
    const psid = (await stack.bff.app.latch.sites.all[0]!.cookies.read(first))!.session.psid;
    const { logoutUrl } = (await logout(first)).json<{ logoutUrl: string }>();
    await completeProviderLogout(client, logoutUrl);
    assert.equal(await endsSoon(second), 401, 'the other session of that provider session ended too');
    assert.ok(stack.bff.audits.some((e) => e.type === 'backchannel_logout' && e.psid === psid), 'the provider\'s logout token did it');
  });

  describe('refuses the logout token each negative module sends (400 LATCH_BAD_REQUEST), ending nothing', () => {
    let dana: string;
    before(async () => {
      ({ cookie: dana } = await signedIn(stack));
    });

    const claims = (over: Claims = {}): Claims => JSON.parse(JSON.stringify({
      iss: stack.provider.issuer, aud: stack.clientId, iat: now(), exp: now() + 120, jti: randomUUID(),
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sub: 'user-dana', ...over,
    })) as Claims;
    const send = async (over: Claims, mode: SignMode = 'valid') => {
      const token = await stack.interceptor!.sign(claims(over), mode, { typ: 'logout+jwt' });
      return { res: await post(`${stack.bffUrl}/backchannel-logout`, FORM, new URLSearchParams({ logout_token: token }).toString()), token };
    };

    const modules: Array<[string, string, () => Promise<{ res: Awaited<ReturnType<typeof post>>; token: string }>]> = [
      ['oidcc-client-test-rp-backchannel-rpinitlogout-alg-none', 'an unsigned token (alg none)', () => send({}, 'none')],
      ['oidcc-client-test-rp-backchannel-rpinitlogout-no-event', 'no events claim', () => send({ events: undefined })],
      ['oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce', 'a nonce', () => send({ nonce: randomUUID() })],
      ['oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg', 'ES256, a key in the JWKS but not the pinned RS256', () => send({}, 'es256')],
      ['oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud', 'an aud that is not the client', () => send({ aud: `${stack.clientId}INVALID` })],
      ['oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event', 'an event other than back-channel logout', () => send({ events: { 'http://schemas.openid.net/event/foobar': {} } })],
      ['oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss', 'an iss that is not the issuer', () => send({ iss: `${stack.provider.issuer}INVALID` })],
    ];
    for (const [name, what, make] of modules) {
      it(`${name}: refuses ${what}`, async () => {
        const { res, token } = await make();
        assertRefusedCleanly(stack, res, 400, 'LATCH_BAD_REQUEST', [token]);
        assert.equal(await alive(dana), 200, 'the session lives on');
      });
    }

    it('control: the same token without the defect is accepted (200) and ends the session', async () => {
      const { res } = await send({});
      assert.equal(res.status, 200, res.text);
      assert.equal(await alive(dana), 401);
    });
  });
});

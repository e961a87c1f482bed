/**
 * The OpenID conformance suite's Refresh Token RP plan (OIDCCClientRefreshTokenProfileTestPlan) and
 * the modules of the full client test plan (OIDCCClientTestPlan) that apply to a server-side
 * code-flow RP and are in no plan above: a missing aud, the bearer header at userinfo, signed
 * userinfo, bad HS256 and ES256 signatures, aggregated and distributed claims. See docs/conformance.md.
 *
 * The refresh modules end with the RP calling userinfo with the refreshed access token. The BFF does
 * that through its API proxy: an API route (`oidc`) whose upstream is the provider's userinfo endpoint,
 * which is how a deployment can run these modules against the official suite too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { HttpClient, HttpResult } from '../helpers/http.ts';
import type { Claims } from '../security/evil-as.ts';
import { get, signedIn, SITE, sleep, type SecStack } from '../security/support.ts';
import { assertRefusedCleanly, assertSignedIn, signInAs, startBatteryStack } from './support.ts';

const idToken = (rewrite: (c: Claims) => Claims) => ({ claims: (c: Claims) => JSON.parse(JSON.stringify(rewrite(c))) as Claims });

describe('OpenID conformance: Refresh Token RP plan and the rest of the client test plan', () => {
  let stack: SecStack;
  let client: HttpClient;
  let routes: Record<string, string>;
  before(async () => {
    stack = await startBatteryStack();
    routes = { LATCH_API_ROUTES: `oidc=${stack.interceptor!.url}` };
    await stack.restartBff(routes);
    ({ client } = await signedIn(stack));
  });
  after(() => stack.close());

  /** GET /api/oidc/me: the provider's userinfo endpoint, called through the BFF's proxy with the session's token. */
  const userinfoThroughProxy = (cookie: string): Promise<HttpResult> =>
    get(`${stack.bffUrl}/api/oidc/me`, { cookie, origin: SITE, 'latch-csrf': '1' });

  describe('Refresh Token RP', () => {
    it('oidcc-client-test-refresh-token: refreshes the access token, then calls userinfo with the new one', async () => {
      const { res } = await signInAs(stack, client);
      const cookie = await assertSignedIn(stack, res);
      await sleep(1600); // the access token (3 s) is past half its life
      const answer = await userinfoThroughProxy(cookie);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(stack.interceptor!.seen.grants.at(-1), 'refresh_token');
      const refreshed = stack.interceptor!.lastToken?.['access_token'];
      assert.equal(typeof refreshed, 'string');
      assert.equal(stack.interceptor!.seen.userinfoTokens.at(-1), refreshed, 'userinfo got the refreshed access token');
      assert.equal(answer.json<{ sub: string }>().sub, 'user-dana');
    });

    for (const [name, what, rewrite] of [
      ['oidcc-client-test-refresh-token-invalid-issuer', 'an iss that is not the original one', (c: Claims) => ({ ...c, iss: `${c['iss']}INVALID` })],
      ['oidcc-client-test-refresh-token-invalid-sub', 'a sub that is not the original one', (c: Claims) => ({ ...c, sub: `${c['sub']}INVALID` })],
    ] as const) {
      it(`${name}: ends the session when the refreshed ID token has ${what}, and calls nothing with its tokens`, async () => {
        const { res } = await signInAs(stack, client);
        const cookie = await assertSignedIn(stack, res);
        await sleep(1600);
        const userinfo = stack.interceptor!.counts.userinfo;
        stack.interceptor!.onToken = { grant: 'refresh_token', ...idToken(rewrite) };
        let answer: HttpResult;
        try {
          answer = await userinfoThroughProxy(cookie);
        } finally {
          stack.interceptor!.onToken = undefined;
        }
        assertRefusedCleanly(stack, answer, 401, 'LATCH_SESSION_EXPIRED');
        assert.ok(answer.setCookies.some((c) => /^latch=;/.test(c)), 'the session cookie is cleared');
        assert.equal(stack.interceptor!.counts.userinfo, userinfo, 'no userinfo request after the invalid refresh response');
        assert.equal((await get(`${stack.bffUrl}/me`, { cookie })).status, 401);
      });
    }
  });

  describe('the rest of the client test plan', () => {
    it('oidcc-client-test-missing-aud: refuses an ID token without aud (400 LATCH_ID_TOKEN_INVALID)', async () => {
      const { res, code } = await signInAs(stack, client, idToken((c) => ({ ...c, aud: undefined })));
      assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
    });

    it('oidcc-client-test-userinfo-bearer-header: sends the access token to userinfo in the Authorization header, never in the query', async () => {
      const { res } = await signInAs(stack, client);
      await assertSignedIn(stack, res);
      assert.equal(stack.interceptor!.seen.userinfoAuth.at(-1), 'Bearer');
      assert.equal(stack.interceptor!.seen.userinfoQuery.at(-1), '');
    });

    it('oidcc-client-test-userinfo-signed: verifies an RS256-signed userinfo answer and signs in with its claims', async () => {
      stack.interceptor!.onUserinfoAnswer = async (c) => ({
        status: 200,
        type: 'application/jwt',
        body: await stack.interceptor!.sign({ ...c, name: 'Dana Signed', iss: stack.provider.issuer, aud: stack.clientId }),
      });
      try {
        const { res } = await signInAs(stack, client);
        const cookie = await assertSignedIn(stack, res);
        assert.equal((await get(`${stack.bffUrl}/me`, { cookie })).json<{ user: { name: string } }>().user.name, 'Dana Signed');
      } finally {
        stack.interceptor!.onUserinfoAnswer = undefined;
      }
    });

    it('oidcc-client-test-invalid-sig-hs256: refuses an HS256 ID token with a bad signature (HMAC-signed ID tokens are never accepted) (400 LATCH_ID_TOKEN_INVALID)', async () => {
      const hs256 = async (claims: Claims, header: Record<string, unknown>) => {
        const jwt = await new SignJWT(claims).setProtectedHeader({ ...header, alg: 'HS256' }).sign(new TextEncoder().encode(stack.clientSecret));
        const [h, p, s] = jwt.split('.') as [string, string, string];
        return `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      };
      const { res, code } = await signInAs(stack, client, { signWith: hs256 });
      assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
    });

    it('oidcc-client-test-invalid-sig-es256: refuses an ES256 ID token with a bad signature when ES256 is the pinned algorithm (400 LATCH_ID_TOKEN_INVALID)', async () => {
      await stack.restartBff({ ...routes, LATCH_ID_TOKEN_ALG: 'ES256' });
      try {
        // Control: a good ES256 signature signs in with this configuration.
        await assertSignedIn(stack, (await signInAs(stack, client, { sign: 'es256' })).res);
        const { res, code } = await signInAs(stack, client, { sign: 'es256-bad-signature' });
        assertRefusedCleanly(stack, res, 400, 'LATCH_ID_TOKEN_INVALID', [code]);
      } finally {
        await stack.restartBff(routes);
      }
    });

    it('oidcc-client-test-aggregated-claims: signs in with a userinfo answer carrying aggregated claims, and hands the page none of their sources', async () => {
      stack.interceptor!.onUserinfoAnswer = async (c) => ({
        status: 200,
        body: JSON.stringify({
          ...c,
          _claim_names: { address: 'src1', phone_number: 'src1' },
          _claim_sources: { src1: { JWT: await stack.interceptor!.sign({ address: { country: 'DE' }, phone_number: '+49 30 1234567' }) } },
        }),
      });
      try {
        const { res } = await signInAs(stack, client);
        const cookie = await assertSignedIn(stack, res);
        const me = await get(`${stack.bffUrl}/me`, { cookie });
        assert.doesNotMatch(me.text, /_claim_(names|sources)/);
      } finally {
        stack.interceptor!.onUserinfoAnswer = undefined;
      }
    });

    it('oidcc-client-test-distributed-claims: signs in with distributed claims, and never hands the page the claims endpoint\'s access token', async () => {
      const claimsToken = 'distributed-claims-access-token-5f1c9a';
      stack.interceptor!.onUserinfoAnswer = (c) => ({
        status: 200,
        body: JSON.stringify({
          ...c,
          _claim_names: { credit_score: 'src1' },
          _claim_sources: { src1: { endpoint: 'https://claims.latch.test/credit', access_token: claimsToken } },
        }),
      });
      try {
        const { res } = await signInAs(stack, client);
        const cookie = await assertSignedIn(stack, res);
        const me = await get(`${stack.bffUrl}/me`, { cookie });
        assert.equal(me.text.includes(claimsToken), false, 'the claims endpoint\'s token stays out of /me');
        assert.doesNotMatch(me.text, /_claim_(names|sources)/);
      } finally {
        stack.interceptor!.onUserinfoAnswer = undefined;
      }
    });
  });
});

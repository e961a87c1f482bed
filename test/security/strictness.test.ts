/**
 * Where the specifications let a relying party choose, the BFF chooses strict, and says why with one
 * code per cause: audiences and azp (OIDC Core 3.1.3.7), Bearer only, token responses missing their
 * required members, a callback without a code, unknown `crit` headers, signed userinfo (OIDC Core
 * 5.3.2) and one rule for a userinfo call that fails after a verified ID token. Every case goes through
 * the real /login → oidc-provider → /callback walk, the interceptor (evil-as.ts) bending one answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpClient } from '../helpers/http.ts';
import type { Answer, Claims, TokenRewrite } from './evil-as.ts';
import {
  assertRefused,
  callbackWithTokens,
  get,
  pendingCallback,
  sessionCookieHeader,
  signedIn,
  sleep,
  startSecStack,
  type SecStack,
} from './support.ts';

const TRUSTED = 'https://api.trusted.latch.test';

describe('a strict relying party', () => {
  let stack: SecStack;
  let client: HttpClient;
  before(async () => {
    stack = await startSecStack({ interceptor: true });
    ({ client } = await signedIn(stack));
  });
  after(() => stack.close());

  const attempt = (rewrite: TokenRewrite | undefined) => callbackWithTokens(stack, client, rewrite);
  const signsIn = (res: Awaited<ReturnType<typeof attempt>>, label: string) => {
    assert.equal(res.status, 302, `${label}: ${res.status} ${res.text.slice(0, 300)}`);
    const cookie = sessionCookieHeader(res.setCookies);
    assert.ok(cookie, `${label}: a session is set`);
    return cookie;
  };
  const claims = (rewrite: (c: Claims) => Claims): TokenRewrite => ({ claims: (c) => JSON.parse(JSON.stringify(rewrite(c))) as Claims });

  describe('audiences (OIDC Core 3.1.3.7)', () => {
    const cases: Array<[string, (c: Claims) => Claims]> = [
      ['an extra audience that is not trusted (azp us)', (c) => ({ ...c, aud: [c['aud'], TRUSTED], azp: c['aud'] })],
      ['an extra audience and no azp', (c) => ({ ...c, aud: [c['aud'], TRUSTED], azp: undefined })],
      ['azp naming another client', (c) => ({ ...c, azp: 'another-client' })],
    ];
    for (const [name, rewrite] of cases) {
      it(`answers 400 LATCH_ID_TOKEN_INVALID to ${name}`, async () => {
        assertRefused(await attempt(claims(rewrite)), 400, 'LATCH_ID_TOKEN_INVALID', name);
      });
    }

    it('accepts an extra audience listed in LATCH_TRUSTED_AUDIENCES (azp us), and still refuses others', async () => {
      await stack.restartBff({ LATCH_TRUSTED_AUDIENCES: `https://other.latch.test, ${TRUSTED}` });
      try {
        signsIn(await attempt(claims((c) => ({ ...c, aud: [c['aud'], TRUSTED], azp: c['aud'] }))), 'trusted audience');
        const untrusted = await attempt(claims((c) => ({ ...c, aud: [c['aud'], 'https://untrusted.latch.test'], azp: c['aud'] })));
        assertRefused(untrusted, 400, 'LATCH_ID_TOKEN_INVALID', 'untrusted audience');
        assertRefused(await attempt(claims((c) => ({ ...c, aud: [c['aud'], TRUSTED], azp: TRUSTED }))), 400, 'LATCH_ID_TOKEN_INVALID', 'azp the trusted one');
      } finally {
        await stack.restartBff();
      }
    });

    it('accepts azp naming us with a single audience', async () => {
      signsIn(await attempt(claims((c) => ({ ...c, azp: c['aud'] }))), 'azp us');
    });
  });

  describe('token type: Bearer only', () => {
    for (const type of ['Bearer', 'bearer', 'BEARER']) {
      it(`accepts token_type ${type}`, async () => {
        signsIn(await attempt({ body: (b) => ({ ...b, token_type: type }) }), type);
      });
    }
    for (const type of ['DPoP', 'N_A', 'mac']) {
      it(`answers 502 LATCH_TOKEN_TYPE_UNSUPPORTED to token_type ${type}, and never uses the token`, async () => {
        const userinfo = stack.interceptor!.counts.userinfo;
        assertRefused(await attempt({ body: (b) => ({ ...b, token_type: type }) }), 502, 'LATCH_TOKEN_TYPE_UNSUPPORTED', type);
        assert.equal(stack.interceptor!.counts.userinfo, userinfo, 'the token was not sent anywhere (not even to userinfo)');
      });
    }
  });

  describe('one code per cause', () => {
    for (const member of ['access_token', 'token_type']) {
      it(`answers 502 LATCH_TOKEN_RESPONSE_INVALID to a token response without ${member}`, async () => {
        assertRefused(await attempt({ body: (b) => ({ ...b, [member]: undefined }) }), 502, 'LATCH_TOKEN_RESPONSE_INVALID', member);
      });
    }

    it('answers 502 LATCH_TOKEN_RESPONSE_INVALID to an expires_in that is not a number', async () => {
      assertRefused(await attempt({ body: (b) => ({ ...b, expires_in: 'soon' }) }), 502, 'LATCH_TOKEN_RESPONSE_INVALID', 'expires_in');
    });

    it('answers 400 LATCH_CALLBACK_INVALID to a callback with neither code nor error', async () => {
      const pending = await pendingCallback(client, stack.bffUrl);
      pending.searchParams.delete('code');
      const res = await client.request(pending.href, { headers: { accept: 'text/html' } });
      assertRefused(res, 400, 'LATCH_CALLBACK_INVALID', 'no code');
    });

    it('answers 400 LATCH_ID_TOKEN_INVALID to an ID token with an unknown crit header', async () => {
      const res = await attempt({ sign: 'valid', header: { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true } });
      assertRefused(res, 400, 'LATCH_ID_TOKEN_INVALID', 'crit');
    });
  });

  describe('userinfo: one rule after a verified ID token', () => {
    // The ID token carries a name of its own, so the answer shows where the claims came from.
    const fromIdToken = claims((c) => ({ ...c, name: 'Name From The ID Token' }));
    const withUserinfo = async (answer: (c: Claims) => Answer | Promise<Answer>) => {
      stack.interceptor!.onUserinfoAnswer = answer;
      try {
        return await attempt(fromIdToken);
      } finally {
        stack.interceptor!.onUserinfoAnswer = undefined;
      }
    };
    const name = async (cookie: string) => (await get(`${stack.bffUrl}/me`, { cookie })).json<{ user: Record<string, unknown> }>().user;

    const unavailable: Array<[string, Answer]> = [
      ['401 (the token is refused)', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: '{"error":"invalid_token"}' }],
      ['403', { status: 403, body: '{"error":"insufficient_scope"}' }],
      ['500 with JSON', { status: 500, body: '{"error":"server_error"}' }],
      ['502 with HTML', { status: 502, type: 'text/html', body: '<h1>Bad gateway</h1>' }],
      ['200 with an HTML page', { status: 200, type: 'text/html', body: '<!doctype html><title>Sign in</title>' }],
      ['200 with JSON that is not an object', { status: 200, body: '["sub"]' }],
      ['a cut connection', 'reset'],
      ['no answer at all (timeout)', 'hang'],
    ];
    for (const [what, answer] of unavailable) {
      it(`signs in with the ID token's claims when userinfo answers ${what}, and logs why`, async () => {
        const cookie = signsIn(await withUserinfo(() => answer), what);
        const user = await name(cookie);
        assert.equal(user['sub'], 'user-dana');
        assert.equal(user['name'], 'Name From The ID Token');
        const warning = stack.bff.logs.join('').split('\n').reverse().find((l) => l.includes('userinfo_unavailable'));
        assert.ok(warning, 'a log line names the fallback');
        // A refusal (401/403: a token issued for an API) is a configuration, logged at info; anything else warns.
        assert.match(warning, /^(401|403)/.test(what) ? /"level":30/ : /"level":40/);
        assert.match(warning, /"code":"LATCH_UPSTREAM_(ERROR|TIMEOUT|UNAVAILABLE)"/);
      });
    }

    const wrong: Array<[string, (c: Claims) => Answer | Promise<Answer>]> = [
      ['JSON without sub', (c) => ({ status: 200, body: JSON.stringify({ ...c, sub: undefined }) })],
      ['JSON with an empty sub', (c) => ({ status: 200, body: JSON.stringify({ ...c, sub: '' }) })],
      ['JSON about someone else', (c) => ({ status: 200, body: JSON.stringify({ ...c, sub: 'user-erin' }) })],
    ];
    for (const [what, answer] of wrong) {
      it(`answers 400 LATCH_USERINFO_INVALID when userinfo answers ${what}`, async () => {
        assertRefused(await withUserinfo(answer), 400, 'LATCH_USERINFO_INVALID', what);
      });
    }

    describe('signed userinfo (application/jwt)', () => {
      const jwt = (c: Claims, over: Claims = {}, mode: Parameters<NonNullable<SecStack['interceptor']>['sign']>[1] = 'valid') =>
        async (): Promise<Answer> => ({
          status: 200,
          type: 'application/jwt',
          body: await stack.interceptor!.sign(JSON.parse(JSON.stringify({ ...c, iss: stack.provider.issuer, aud: stack.clientId, ...over })) as Claims, mode),
        });
      const signed = (over: Claims = {}, mode: Parameters<NonNullable<SecStack['interceptor']>['sign']>[1] = 'valid') =>
        (c: Claims) => jwt(c, over, mode)();

      it('verifies it and signs in with its claims', async () => {
        const cookie = signsIn(await withUserinfo(signed({ name: 'Name From Signed Userinfo' })), 'signed userinfo');
        assert.equal((await name(cookie))['name'], 'Name From Signed Userinfo');
      });

      const refused: Array<[string, (c: Claims) => Promise<Answer>]> = [
        ['a corrupted signature', signed({}, 'bad-signature')],
        ['alg none', signed({}, 'none')],
        ['another algorithm than the pinned one (ES256)', signed({}, 'es256')],
        ['a key that is not in the JWKS', signed({}, 'unknown-key')],
        ['the wrong iss', signed({ iss: 'https://evil.example' })],
        ['no iss', signed({ iss: undefined })],
        ['the wrong aud', signed({ aud: 'another-client' })],
        ['no aud', signed({ aud: undefined })],
        ['an untrusted extra audience', signed({ aud: [stack?.clientId, TRUSTED] })],
        ['another sub', signed({ sub: 'user-erin' })],
      ];
      for (const [what, answer] of refused) {
        it(`answers 400 LATCH_USERINFO_INVALID to a signed answer with ${what}`, async () => {
          const res = await withUserinfo(what === 'an untrusted extra audience' ? signed({ aud: [stack.clientId, TRUSTED], azp: stack.clientId }) : answer);
          assertRefused(res, 400, 'LATCH_USERINFO_INVALID', what);
        });
      }
    });
  });
});

describe('refresh', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack({ interceptor: true, provider: { accessTokenTtl: 3 } });
  });
  after(() => stack.close());

  it('keeps the session when a refresh answers a token type other than Bearer (502, not LATCH_SESSION_EXPIRED)', async () => {
    const { cookie } = await signedIn(stack);
    await sleep(1600);
    stack.interceptor!.onToken = { grant: 'refresh_token', body: (b) => ({ ...b, token_type: 'DPoP' }) };
    try {
      const res = await get(`${stack.bffUrl}/me`, { cookie });
      assertRefused(res, 502, 'LATCH_TOKEN_TYPE_UNSUPPORTED', 'refresh DPoP');
      assert.equal(res.setCookies.some((c) => /^latch=;/.test(c)), false, 'the session cookie is not cleared');
    } finally {
      stack.interceptor!.onToken = undefined;
    }
  });
});

describe('the refresh margin: at most half the access token\'s life', () => {
  let stack: SecStack;
  before(async () => {
    stack = await startSecStack({ provider: { accessTokenTtl: 20 } });
  });
  after(() => stack.close());

  it('does not refresh a 20 s access token on every request', async () => {
    const { cookie } = await signedIn(stack);
    stack.provider.resetCounts();
    for (let i = 0; i < 5; i++) {
      const res = await get(`${stack.bffUrl}/me`, { cookie });
      assert.equal(res.status, 200, res.text);
      await sleep(100);
    }
    assert.equal(stack.provider.counts.tokenByGrant['refresh_token'] ?? 0, 0, 'no refresh while the token has more than half its life left');
  });
});

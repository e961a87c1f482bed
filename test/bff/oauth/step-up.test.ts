/**
 * Step-up (bff/oauth/step-up.ts, issue 17): the RFC 9470 challenge parser and the callback's check as
 * functions, then the whole of it against a real oidc-provider with acr values (dev/provider.ts
 * `acrValues`): a route that needs a higher level, a step-up sign-in that reaches it, a provider that
 * ignores acr_values, and an upstream that sends the RFC 9470 challenge.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { MeResponse, StepUpErrorBody } from '../../../bff/contract.ts';
import { LatchError } from '../../../bff/errors.ts';
import { checkSignIn, fromChallenge, loginStepUp, shortfall } from '../../../bff/oauth/step-up.ts';
import { signIn } from '../../helpers/http.ts';
import { listen, type Listening } from '../../helpers/net.ts';
import { MULTI_BFF, MULTI_SITE, multiBff, providerEnv, startTestProvider, type MultiBff, type TestProvider } from '../../helpers/providers.ts';

const challenge = (value: string | undefined) => fromChallenge(401, value === undefined ? {} : { 'www-authenticate': value });

describe('RFC 9470 challenges (fromChallenge)', () => {
  it('reads acr_values and max_age from a Bearer insufficient_user_authentication challenge', () => {
    const err = challenge('Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="urn:a urn:b", max_age=300');
    assert.ok(err instanceof LatchError);
    assert.equal(err.code, 'LATCH_STEP_UP_REQUIRED');
    assert.deepEqual(err.body['stepUp'], { acr: ['urn:a', 'urn:b'], maxAge: 300 });
    assert.equal(err.headers['WWW-Authenticate'], 'Bearer error="insufficient_user_authentication", acr_values="urn:a urn:b", max_age=300');
  });

  it('finds it among other challenges, in any case, with a token68 before it', () => {
    assert.deepEqual(challenge('Negotiate abc==, Basic realm="x, y", BEARER realm="api", ERROR="insufficient_user_authentication", max_age="60"')?.body['stepUp'], { maxAge: 60 });
    assert.deepEqual(challenge('Bearer error=insufficient_user_authentication')?.body['stepUp'], {});
  });

  it('a malformed or other challenge is no step-up (a plain upstream 401)', () => {
    for (const value of [
      undefined, '', 'Bearer', 'Bearer error="invalid_token"', 'Basic error="insufficient_user_authentication"',
      'Bearer error="insufficient_user_authentication", max_age=-1', 'Bearer error="insufficient_user_authentication", max_age=1e3',
      'Bearer error="insufficient_user_authentication", acr_values="a\\"b"', 'Bearer error="insufficient_user_authentication", acr_values="unterminated',
      'Bearer error="invalid_token", error="insufficient_user_authentication"', `Bearer error="insufficient_user_authentication", acr_values="${Array.from({ length: 9 }, (_, i) => `a${i}`).join(' ')}"`,
      `Bearer error="insufficient_user_authentication", acr_values="${'a'.repeat(5000)}"`, '=,=,="', 'Bearer error=, acr_values=""',
    ]) {
      assert.equal(challenge(value), null, String(value));
    }
    assert.equal(fromChallenge(403, { 'www-authenticate': 'Bearer error="insufficient_user_authentication"' }), null, 'only on a 401');
  });
});

describe('the callback\'s check (checkSignIn) and a session\'s shortfall', () => {
  const now = 1_800_000_000;
  it('passes an acr among those asked and an auth_time within max_age', () => {
    checkSignIn({ acr: ['loa2', 'loa3'], maxAge: 60 }, { acr: 'loa3', authTime: now - 59 }, now);
    checkSignIn({}, {}, now);
  });
  it('fails another acr, a missing acr, a missing or old auth_time, and one in the future: LATCH_STEP_UP_FAILED', () => {
    const fails = (asked: Parameters<typeof checkSignIn>[0], got: Parameters<typeof checkSignIn>[1]) =>
      assert.throws(() => checkSignIn(asked, got, now), (err: unknown) => err instanceof LatchError && err.code === 'LATCH_STEP_UP_FAILED');
    fails({ acr: ['loa2'] }, { acr: 'loa1', authTime: now });
    fails({ acr: ['loa2'] }, { authTime: now });
    fails({ maxAge: 60 }, { acr: 'loa2' });
    fails({ maxAge: 60 }, { authTime: now - 600 });
    fails({ maxAge: 60 }, { authTime: now + 3600 });
  });
  it('a session short of a route asks for both parts again', () => {
    assert.deepEqual(shortfall({ acr: 'loa1', ath: now }, { acr: ['loa2'], maxAge: 60 }, now), { acr: ['loa2'], maxAge: 60 });
    assert.equal(shortfall({ acr: 'loa2', ath: now - 10 }, { acr: ['loa2'], maxAge: 60 }, now), null);
  });
  it('/login refuses malformed step-up parameters rather than sign in below them', () => {
    for (const query of ['acr_values=a%22b', 'max_age=-1', 'max_age=ten', `acr_values=${Array.from({ length: 5 }, (_, i) => `${i}${'a'.repeat(110)}`).join('+')}`, `acr_values=${Array.from({ length: 9 }, (_, i) => `a${i}`).join('+')}`]) {
      assert.throws(() => loginStepUp(new URLSearchParams(query)), (err: unknown) => err instanceof LatchError && err.code === 'LATCH_BAD_REQUEST', query);
    }
    assert.deepEqual(loginStepUp(new URLSearchParams('acr_values=loa2+loa3&max_age=0')), { acr: ['loa2', 'loa3'], maxAge: 0 });
  });
});

/** An upstream API that records its calls and answers what `answer` says for the path. */
function upstream(answer: (req: IncomingMessage) => { status: number; headers?: Record<string, string> }) {
  const calls: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    calls.push(`${req.url} ${req.headers.authorization ? 'bearer' : 'none'}`);
    const { status, headers } = answer(req);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ ok: status === 200 }));
  };
  return { handler, calls };
}

describe('step-up against oidc-provider with acr values', () => {
  let idp: TestProvider;
  let lax: TestProvider;
  let api: ReturnType<typeof upstream>;
  let apiAt: Listening;
  let bff: MultiBff;
  const returnTo = encodeURIComponent(`${MULTI_SITE}/p`);

  before(async () => {
    idp = await startTestProvider([`${MULTI_BFF}/callback`], { acrValues: ['urn:latch:loa:1', 'urn:latch:loa:2'] });
    // A provider that takes acr_values and ignores them: every sign-in is loa:1.
    lax = await startTestProvider([`${MULTI_BFF}/callback`], { acrValues: ['urn:latch:loa:1', 'urn:latch:loa:2'], ignoreAcrValues: true });
    let flaky = 0;
    api = upstream((req) => req.url?.startsWith('/flaky') && flaky++ % 2 === 0
      ? { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }
      : req.url?.startsWith('/challenge') || req.url?.startsWith('/flaky')
      ? { status: 401, headers: { 'www-authenticate': 'Bearer error="insufficient_user_authentication", acr_values="urn:latch:loa:3", max_age=5' } }
      : req.url?.startsWith('/malformed')
        ? { status: 401, headers: { 'www-authenticate': 'Bearer error="insufficient_user_authentication", max_age=soon' } }
        : { status: 200 });
    apiAt = await listen(api.handler);
    bff = multiBff({
      LATCH_PROVIDERS: 'idp,lax',
      ...providerEnv('idp', idp),
      ...providerEnv('lax', lax),
      LATCH_API_ROUTES: `orders=${apiAt.url},open=${apiAt.url}`,
      LATCH_API_ROUTE_ORDERS_ACR: 'urn:latch:loa:2',
      LATCH_API_ROUTE_ORDERS_MAX_AGE: '600',
    });
  });
  after(async () => {
    await apiAt?.close();
    await idp?.dev.close();
    await lax?.dev.close();
  });

  const apiCall = (client: ReturnType<MultiBff['client']>, path: string) =>
    client.request(`${MULTI_BFF}/api/${path}`, { headers: { 'latch-csrf': '1', origin: MULTI_SITE } });

  it('a route that needs loa:2 refuses a session below it (no acr) with 401 LATCH_STEP_UP_REQUIRED before anything goes upstream; a step-up sign-in reaches it', async () => {
    const client = bff.client();
    await signIn(client, `${MULTI_BFF}/login?provider=idp&returnTo=${returnTo}`, idp.user);
    const me = (await client.request(`${MULTI_BFF}/me`)).json<MeResponse>();
    assert.equal(me.provider, 'idp');
    assert.equal(me.acr, undefined, 'oidc-provider puts acr in the ID token only when asked for');
    api.calls.length = 0;
    const refused = await apiCall(client, 'orders/list');
    assert.equal(refused.status, 401);
    const body = refused.json<StepUpErrorBody>();
    assert.equal(body.error.code, 'LATCH_STEP_UP_REQUIRED');
    assert.deepEqual(body.stepUp, { acr: ['urn:latch:loa:2'], maxAge: 600 });
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="insufficient_user_authentication", acr_values="urn:latch:loa:2", max_age=600');
    assert.equal(refused.headers.get('access-control-allow-origin'), MULTI_SITE, 'readable by the page');
    assert.deepEqual(api.calls, [], 'nothing went upstream');
    assert.equal((await client.request(`${MULTI_BFF}/me`)).status, 200, 'the session is kept');

    // The step-up: the provider asks for the stronger sign-in (its session is only loa:1).
    const { finalUrl } = await signIn(client, `${MULTI_BFF}/login?provider=idp&acr_values=urn:latch:loa:2&max_age=600&returnTo=${returnTo}`, idp.user);
    assert.equal(finalUrl.searchParams.get('latch_error'), null);
    const stepped = (await client.request(`${MULTI_BFF}/me`)).json<MeResponse>();
    assert.equal(stepped.acr, 'urn:latch:loa:2');
    assert.equal(typeof stepped.authTime, 'number');
    assert.ok(Math.abs(stepped.authTime! - Date.now() / 1000) < 60);
    const ok = await apiCall(client, 'orders/list');
    assert.equal(ok.status, 200);
    assert.deepEqual(api.calls, ['/list bearer']);
  });

  it('a provider that ignores acr_values: the callback fails with LATCH_STEP_UP_FAILED, no session is made, the one there was survives', async () => {
    const client = bff.client();
    await signIn(client, `${MULTI_BFF}/login?provider=lax&acr_values=urn:latch:loa:1&returnTo=${returnTo}`, lax.user);
    const before = (await client.request(`${MULTI_BFF}/me`)).json<MeResponse>();
    assert.equal(before.acr, 'urn:latch:loa:1');
    const { finalUrl, callbackResult } = await signIn(client, `${MULTI_BFF}/login?provider=lax&acr_values=urn:latch:loa:2&prompt=login&returnTo=${returnTo}`, lax.user);
    assert.equal(finalUrl.origin, MULTI_SITE);
    assert.equal(finalUrl.searchParams.get('latch_error'), 'LATCH_STEP_UP_FAILED');
    assert.equal(callbackResult?.setCookies.filter((c) => /^latch=/.test(c)).length, 0, 'no new session cookie');
    const after = await client.request(`${MULTI_BFF}/me`);
    assert.equal(after.status, 200);
    assert.equal(after.json<MeResponse>().acr, 'urn:latch:loa:1', 'the earlier session, unchanged');
    assert.ok(bff.logs.some((line) => line.includes('step-up-failed')));
  });

  it('a popup step-up that fails tells the opener LATCH_STEP_UP_FAILED', async () => {
    const client = bff.client();
    const { finalUrl, callbackResult } = await signIn(client, `${MULTI_BFF}/login?provider=lax&mode=popup&acr_values=urn:latch:loa:2&returnTo=${returnTo}`, lax.user);
    assert.equal(finalUrl.origin, MULTI_BFF);
    assert.match(callbackResult?.text ?? '', /LATCH_STEP_UP_FAILED/);
  });

  it('an upstream\'s RFC 9470 challenge becomes the same 401 with its requirements; a malformed one passes as a plain 401', async () => {
    const client = bff.client();
    await signIn(client, `${MULTI_BFF}/login?provider=idp&returnTo=${returnTo}`, idp.user);
    const res = await apiCall(client, 'open/challenge');
    assert.equal(res.status, 401, res.text + bff.logs.slice(-3).join('\n'));
    const body = res.json<StepUpErrorBody>();
    assert.equal(body.error.code, 'LATCH_STEP_UP_REQUIRED');
    assert.deepEqual(body.stepUp, { acr: ['urn:latch:loa:3'], maxAge: 5 });
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_user_authentication", acr_values="urn:latch:loa:3", max_age=5$/);
    // A plain 401 first (the token renewed, the call retried once), then the challenge: the same step-up 401.
    const retried = await apiCall(client, 'open/flaky');
    assert.equal(retried.status, 401);
    assert.equal(retried.json<StepUpErrorBody>().error.code, 'LATCH_STEP_UP_REQUIRED');
    const plain = await apiCall(client, 'open/malformed');
    assert.equal(plain.status, 401);
    assert.equal(plain.headers.get('www-authenticate'), null, 'the upstream\'s own challenge stays behind');
    assert.deepEqual(plain.json(), { ok: false }, 'the upstream\'s body');
    assert.equal((await client.request(`${MULTI_BFF}/me`)).status, 200, 'the session survives both');
  });

  it('malformed step-up parameters at /login are a clear 400, not a sign-in below them', async () => {
    const res = await bff.client().request(`${MULTI_BFF}/login?provider=idp&max_age=soon&returnTo=${returnTo}`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.match(res.text, /LATCH_BAD_REQUEST/);
  });
});

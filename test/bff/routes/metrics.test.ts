/**
 * GET /metrics (bff/routes/metrics.ts): off unless LATCH_METRICS=true (answered in memory); on, the
 * figures a real sign-in, a refresh and some failures leave, against a real oidc-provider.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { memoryBff } from '../../helpers/bff.ts';
import { HttpClient, signIn } from '../../helpers/http.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GET /metrics', () => {
  it('is 404 LATCH_NOT_FOUND unless LATCH_METRICS=true', async () => {
    const res = await memoryBff().fetch('/metrics');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'LATCH_NOT_FOUND');
  });

  describe('with LATCH_METRICS=true, after a login, a refresh and some failures', () => {
    let stack: Stack;
    let text: string;
    before(async () => {
      // Access tokens live 3 s: within the BFF's refresh margin (half their life) after 1.5 s, so /me refreshes.
      stack = await startStack({ env: { LATCH_METRICS: 'true' }, provider: { accessTokenTtl: 3 } });
      const client = new HttpClient();
      await signIn(client, `${stack.bffUrl}/login?returnTo=${encodeURIComponent(stack.siteOrigin + '/')}`, stack.user);
      await sleep(1600);
      assert.equal((await client.request(`${stack.bffUrl}/me`)).status, 200);
      assert.equal((await fetch(`${stack.bffUrl}/me`)).status, 401);
      await fetch(`${stack.bffUrl}/callback?code=x&state=nope`);
      await fetch(`${stack.bffUrl}/no/such/page/${randomBytes(4).toString('hex')}`);
      const res = await fetch(`${stack.bffUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      text = await res.text();
    });
    after(() => stack.close());

    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };

    it('counts requests by route pattern and status, never by raw path', () => {
      assert.equal(value('latch_http_requests_total{method="GET",route="/me",status="200"}'), 1);
      assert.equal(value('latch_http_requests_total{method="GET",route="/me",status="401"}'), 1);
      assert.ok((value('latch_http_request_duration_seconds_count{method="GET",route="/login"}') ?? 0) >= 1);
      assert.equal(value('latch_http_requests_total{method="GET",route="(unmatched)",status="404"}'), 1);
      assert.doesNotMatch(text, /no\/such\/page/);
    });

    it('counts logins, refreshes and failures', () => {
      assert.equal(value('latch_logins_total{result="success"}'), 1);
      assert.equal(value('latch_logins_total{result="error"}'), 1);
      assert.equal(value('latch_token_refreshes_total{result="success"}'), 1);
      assert.equal(value('latch_token_refreshes_total{result="failure"}'), 0);
      assert.equal(value('latch_errors_total{code="LATCH_UNAUTHENTICATED"}'), 1);
    });

    it('times the calls to the authorization server', () => {
      for (const step of ['discovery', 'code exchange', 'userinfo', 'refresh']) {
        assert.ok((value(`latch_outbound_duration_seconds_count{step="${step}",result="success"}`) ?? 0) >= 1, step);
      }
    });

    it('includes the process metrics', () => {
      assert.match(text, /^process_cpu_user_seconds_total /m);
      assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    });
  });
});

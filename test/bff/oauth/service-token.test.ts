import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { LatchError } from '../../../bff/errors.ts';
import { createServiceTokens } from '../../../bff/oauth/service-token.ts';
import type { Provider } from '../../../bff/providers/provider.ts';
import { startStack, type Stack } from '../../helpers/stack.ts';

const RESOURCE = 'https://reports.latch.test';

describe('getServiceToken (client credentials)', () => {
  let stack: Stack;
  const granted = () => stack.provider.counts.tokenByGrant['client_credentials'] ?? 0;

  before(async () => {
    stack = await startStack({ provider: { jwtAccessTokens: { resource: RESOURCE, scopes: ['reports:read', 'reports:write'] } } });
  });
  after(() => stack.close());
  beforeEach(() => stack.provider.resetCounts());

  it('caches one token per scope set and audience', async () => {
    const { getServiceToken } = createServiceTokens(stack.app.latch.provider);
    const a = await getServiceToken({ scope: 'reports:read reports:write', audience: RESOURCE });
    const b = await getServiceToken({ scope: 'reports:write  reports:read reports:read', audience: RESOURCE });
    assert.equal(b.accessToken, a.accessToken, 'the same scopes in another order are the same key');
    assert.equal(granted(), 1);
    const claims = decodeJwt(a.accessToken);
    assert.equal(claims.aud, RESOURCE);
    assert.equal(claims['client_id'], stack.clientId);
    assert.equal(claims['scope'], 'reports:read reports:write');
    assert.ok(a.expiresAt > Date.now() + 3_000_000);

    const readOnly = await getServiceToken({ scope: 'reports:read', audience: RESOURCE });
    assert.notEqual(readOnly.accessToken, a.accessToken);
    assert.equal(decodeJwt(readOnly.accessToken)['scope'], 'reports:read');
    assert.equal(granted(), 2);
    await getServiceToken({ scope: 'reports:read', audience: RESOURCE });
    assert.equal(granted(), 2);
  });

  it('sends one request for concurrent callers of one key', async () => {
    const { getServiceToken } = createServiceTokens(stack.app.latch.provider);
    const tokens = await Promise.all(Array.from({ length: 25 }, () => getServiceToken({ scope: 'reports:read', audience: RESOURCE })));
    assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 1);
    assert.equal(granted(), 1, 'one token-endpoint call at the provider');
    await Promise.all([getServiceToken({ scope: 'reports:write', audience: RESOURCE }), getServiceToken({ scope: 'reports:write', audience: RESOURCE })]);
    assert.equal(granted(), 2, 'another key has its own request');
  });

  it('fetches a new token shortly before the cached one expires', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { getServiceToken } = createServiceTokens(stack.app.latch.provider, { refreshMarginMs: 30_000 });
    const first = await getServiceToken({ scope: 'reports:read', audience: RESOURCE });
    const lifetime = first.expiresAt - Date.now();
    assert.ok(lifetime > 3_000_000, 'the dev provider issues one-hour tokens');
    t.mock.timers.tick(lifetime - 31_000);
    assert.equal((await getServiceToken({ scope: 'reports:read', audience: RESOURCE })).accessToken, first.accessToken, 'still cached 31 s before expiry');
    assert.equal(granted(), 1);
    t.mock.timers.tick(2_000);
    const second = await getServiceToken({ scope: 'reports:read', audience: RESOURCE });
    assert.notEqual(second.accessToken, first.accessToken, 'refetched 29 s before expiry');
    assert.equal(granted(), 2);
  });

  it('caches no failure, and codes it 502 LATCH_CLIENT_REFUSED', async () => {
    const { getServiceToken } = createServiceTokens(stack.app.latch.provider);
    for (let i = 1; i <= 2; i++) {
      await assert.rejects(getServiceToken({ audience: 'https://unknown.latch.test' }), (err: unknown) => {
        assert.ok(err instanceof LatchError);
        assert.equal(err.code, 'LATCH_CLIENT_REFUSED');
        assert.equal(err.status, 502);
        return true;
      });
      assert.equal(granted(), i, 'each call asks again');
    }
  });

  it('forgets a token when told it was refused, and only that token', async () => {
    const tokens = createServiceTokens(stack.app.latch.provider);
    const request = { scope: 'reports:read', audience: RESOURCE };
    const first = await tokens.getServiceToken(request);
    tokens.invalidate(request, 'some-older-token');
    assert.equal((await tokens.getServiceToken(request)).accessToken, first.accessToken);
    tokens.invalidate(request, first.accessToken);
    const second = await tokens.getServiceToken(request);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(granted(), 2);
  });

  it('answers LATCH_UPSTREAM_ERROR for a server without a standard token endpoint', async () => {
    const { tokenEndpoint: _none, ...rest } = stack.app.latch.provider;
    const provider = { ...rest, kind: 'custom' } as Provider;
    await assert.rejects(createServiceTokens(provider).getServiceToken(), (err: unknown) => err instanceof LatchError && err.code === 'LATCH_UPSTREAM_ERROR');
  });
});

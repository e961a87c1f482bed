// A plain node:test test: a signed-in session without a browser, then the BFF's own endpoints.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mintSession } from 'latch/testing';
import { startApp } from '../app.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(() => app.close());

test('GET /me answers the signed-in user', async () => {
  const session = await mintSession({ provider: app.provider, user: 'ada@example.test', env: app.env });
  const res = await fetch(`${app.bffUrl}/me`, { headers: { cookie: session.cookieHeader } });
  assert.equal(res.status, 200);
  const { user } = await res.json();
  assert.equal(user.name, 'Ada Lovelace');
  assert.deepEqual(user.roles, ['admin']);
});

test('GET /me without a session is 401 LATCH_UNAUTHENTICATED', async () => {
  const res = await fetch(`${app.bffUrl}/me`);
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, 'LATCH_UNAUTHENTICATED');
});

test('signing out ends the session', async () => {
  const { cookieHeader } = await mintSession({ provider: app.provider, user: 'grace@example.test', env: app.env });
  const headers = { cookie: cookieHeader, origin: new URL(app.siteUrl).origin, 'latch-csrf': '1' };
  assert.equal((await fetch(`${app.bffUrl}/logout`, { method: 'POST', headers })).status, 200);
  assert.equal((await fetch(`${app.bffUrl}/me`, { headers: { cookie: cookieHeader } })).status, 401);
});

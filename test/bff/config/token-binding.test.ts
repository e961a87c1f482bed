/** The token-binding section (bff/config/token-binding.ts): LATCH_DPOP. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';

describe('LATCH_DPOP', () => {
  const base = { ...BASE_ENV, LATCH_ISSUER: 'https://login.example.com' };

  it('is off unless set, and on with true', () => {
    assert.equal(loadConfig(base).dpop, false);
    assert.equal(loadConfig({ ...base, LATCH_DPOP: 'true' }).dpop, true);
  });

  it('names the variable when it is not a boolean, or the provider is not a standard OpenID Connect server', () => {
    assert.deepEqual(problemsOf({ ...base, LATCH_DPOP: 'yes please' }), ['LATCH_DPOP']);
    assert.deepEqual(problemsOf({ ...base, LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: 'https://login.example.com', LATCH_DPOP: 'true' }), ['LATCH_DPOP']);
  });
});

describe('LATCH_PAR', () => {
  const base = { ...BASE_ENV, LATCH_ISSUER: 'https://login.example.com' };

  it('is off unless set (discovery may still turn it on), and names the variable for SCAYLE', () => {
    assert.equal(loadConfig(base).par, false);
    assert.equal(loadConfig({ ...base, LATCH_PAR: 'true' }).par, true);
    const scayle = { ...base, LATCH_PROVIDER: 'scayle', LATCH_SCAYLE_BASE_URL: 'https://t.auth.scayle.cloud', LATCH_SCAYLE_SHOP_ID: '1', LATCH_SCAYLE_SHOP_SECRET: 's', LATCH_SCAYLE_IDP_KEY: 'k' };
    assert.deepEqual(problemsOf({ ...scayle, LATCH_PAR: 'true' }), ['LATCH_PAR']);
  });
});

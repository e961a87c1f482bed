/**
 * The logout token's claims (bff/routes/backchannel.ts `checkLogoutToken`), as a plain function. The
 * route itself, with tokens a real provider sends and forged ones: test/security/backchannel.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLogoutToken, BACKCHANNEL_LOGOUT_EVENT } from '../../../bff/routes/backchannel.ts';

describe('checkLogoutToken', () => {
  const base = () => ({ iss: 'https://op', aud: 'c', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60, jti: 'j', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sid: 's' });
  it('accepts sub or sid and typ logout+jwt or none', () => {
    assert.equal(checkLogoutToken({ typ: 'logout+jwt' }, base()).sid, 's');
    assert.equal(checkLogoutToken({}, { ...base(), sid: undefined, sub: 'u' }).sub, 'u');
  });
  it('refuses a non-object events member and an empty sub', () => {
    assert.throws(() => checkLogoutToken({}, { ...base(), events: { [BACKCHANNEL_LOGOUT_EVENT]: [] } }));
    assert.throws(() => checkLogoutToken({}, { ...base(), sid: undefined, sub: '' }));
  });
});

/**
 * The conformance battery's harness: the security suite's stack (real oidc-provider, the
 * misbehaving interceptor of test/security/evil-as.ts in front of its token, userinfo and JWKS
 * endpoints, a real BFF on loopback), plus the two outcomes every module ends in:
 *
 * - `assertSignedIn`: the callback redirects to the page with a session cookie, and `/me` names the user;
 * - `assertRefusedCleanly`: the expected status and code, no session cookie set, no 500 or stack
 *   trace, and no token, code or secret of that sign-in in the answer or the BFF's logs.
 */
import assert from 'node:assert/strict';
import type { HttpClient, HttpResult } from '../helpers/http.ts';
import type { TokenRewrite } from '../security/evil-as.ts';
import { assertRefused, get, pendingCallback, sessionCookieHeader, SITE, startSecStack, type SecStack, type SecStackOptions } from '../security/support.ts';

export { SITE };

/** The battery's stack. Access tokens live 3 s, so a refresh is due 1.5 s after sign-in. */
export function startBatteryStack(options: SecStackOptions = {}): Promise<SecStack> {
  return startSecStack({ interceptor: true, backchannel: true, provider: { accessTokenTtl: 3 }, ...options });
}

/**
 * One sign-in by a client that has a provider session (no form), its token answers rewritten as the
 * module's server would write them. Returns the callback's answer and the authorization code it carried.
 */
export async function signInAs(stack: SecStack, client: HttpClient, rewrite?: TokenRewrite): Promise<{ res: HttpResult; code: string }> {
  stack.interceptor!.onToken = rewrite;
  try {
    const pending = await pendingCallback(client, stack.bffUrl);
    return { res: await client.request(pending.href, { headers: { accept: 'text/html' } }), code: pending.searchParams.get('code') ?? '' };
  } finally {
    stack.interceptor!.onToken = undefined;
  }
}

/** The module's sign-in succeeded: redirect to the page, a session, `/me` names `sub`. Returns the session cookie. */
export async function assertSignedIn(stack: SecStack, res: HttpResult, sub = 'user-dana'): Promise<string> {
  assert.equal(res.status, 302, `sign-in: ${res.status} ${res.text.slice(0, 300)}`);
  assert.ok(res.location?.startsWith(SITE), `back to the page, not ${res.location}`);
  const cookie = sessionCookieHeader(res.setCookies);
  assert.ok(cookie, 'a session cookie is set');
  const me = await get(`${stack.bffUrl}/me`, { cookie });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json<{ user: { sub: string } }>().user.sub, sub);
  return cookie;
}

/**
 * The module's defect was refused: status and code, no session, nothing leaked. `secrets` are extra
 * values that must appear nowhere (the callback's code, say); the last token answer's tokens are added.
 */
export function assertRefusedCleanly(
  stack: SecStack,
  res: HttpResult,
  status: number,
  code: string,
  secrets: string[] = [],
): void {
  assertRefused(res, status, code, code);
  const tokens = stack.interceptor?.lastToken ?? {};
  const values = [...secrets, stack.clientSecret, ...['access_token', 'refresh_token', 'id_token'].map((k) => tokens[k])]
    .filter((v): v is string => typeof v === 'string' && v.length >= 8);
  const logs = stack.bff.logs.join('\n');
  for (const value of values) {
    assert.equal(res.text.includes(value), false, 'the answer leaks a token or secret');
    assert.equal(logs.includes(value), false, 'the logs leak a token or secret');
  }
}

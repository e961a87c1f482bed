import type { EnvReader } from './env.ts';
import type { ProviderKind } from './provider.ts';

/** How the BFF's tokens are bound and asked for (README: "Sender-constrained tokens"; docs/security.md). */
export interface TokenBindingSection {
  /**
   * LATCH_DPOP=true: DPoP (RFC 9449). Each session gets an ES256 key (sealed in the session, or in
   * the store), token requests carry a proof, the tokens must come back as token_type DPoP, and the
   * proxy sends `Authorization: DPoP` with a fresh proof per request. default false
   */
  readonly dpop: boolean;
  /**
   * LATCH_PAR=true: pushed authorization requests (RFC 9126). /login posts the request to the server's
   * PAR endpoint and sends the browser with only client_id and request_uri. Also on, whatever this
   * says, when discovery says `require_pushed_authorization_requests`. default false
   */
  readonly par: boolean;
}

/** The token-binding section: LATCH_DPOP, LATCH_PAR (both on under LATCH_PROFILE=fapi2). `kind` is the provider's: both need a standard OpenID Connect server. */
export function readTokenBinding(env: EnvReader, kind: ProviderKind, profile?: 'fapi2'): TokenBindingSection {
  // LATCH_PROFILE=fapi2 turns both on (config/profile.ts); an explicit false under it is a contradiction.
  if (profile === 'fapi2') {
    for (const name of ['LATCH_DPOP', 'LATCH_PAR']) if (env.str(name) !== undefined && !env.bool(name)) env.fail(name, 'cannot be false under LATCH_PROFILE=fapi2');
    return { dpop: true, par: true };
  }
  const dpop = env.bool('LATCH_DPOP');
  if (dpop && kind !== 'oidc') env.fail('LATCH_DPOP', `needs LATCH_PROVIDER=oidc (a ${kind} server's userinfo and token endpoints are not sent proofs)`);
  const par = env.bool('LATCH_PAR');
  if (par && kind === 'scayle') env.fail('LATCH_PAR', 'SCAYLE has no pushed authorization request endpoint');
  return { dpop, par };
}

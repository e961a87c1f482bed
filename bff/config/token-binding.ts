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

/**
 * What a `kind` server can take: DPoP needs an OpenID Connect server (its token and userinfo endpoints
 * are sent proofs); SCAYLE has no pushed authorization request endpoint. The rule behind both the
 * settings' checks and which providers the deployment's LATCH_DPOP and LATCH_PAR reach (providers/registry.ts).
 */
export function bindingSupported(kind: ProviderKind): { dpop: boolean; par: boolean } {
  return { dpop: kind === 'oidc', par: kind !== 'scayle' };
}

const REFUSED = {
  dpop: (kind: ProviderKind) => `needs an oidc provider (a ${kind} server's userinfo and token endpoints are not sent proofs)`,
  par: () => 'SCAYLE has no pushed authorization request endpoint',
};

/**
 * DPoP and PAR as `names` call them (LATCH_DPOP and LATCH_PAR, or a provider's DPOP and PAR under its
 * prefix), each only when set, refused where a `kind` server cannot take it.
 */
export function readBindingSettings(env: EnvReader, names: { dpop: string; par: string }, kind: ProviderKind): { dpop?: boolean; par?: boolean } {
  const supported = bindingSupported(kind);
  const out: { dpop?: boolean; par?: boolean } = {};
  for (const key of ['dpop', 'par'] as const) {
    if (env.str(names[key]) === undefined) continue;
    out[key] = env.bool(names[key]);
    if (out[key] && !supported[key]) env.fail(names[key], REFUSED[key](kind));
  }
  return out;
}

/** The token-binding section: LATCH_DPOP, LATCH_PAR (both on under LATCH_PROFILE=fapi2). `kind` is the provider's: both need a standard OpenID Connect server. */
export function readTokenBinding(env: EnvReader, kind: ProviderKind, profile?: 'fapi2'): TokenBindingSection {
  // LATCH_PROFILE=fapi2 turns both on (config/profile.ts); an explicit false under it is a contradiction.
  if (profile === 'fapi2') {
    for (const name of ['LATCH_DPOP', 'LATCH_PAR']) if (env.str(name) !== undefined && !env.bool(name)) env.fail(name, 'cannot be false under LATCH_PROFILE=fapi2');
    return { dpop: true, par: true };
  }
  const { dpop = false, par = false } = readBindingSettings(env, { dpop: 'LATCH_DPOP', par: 'LATCH_PAR' }, kind);
  return { dpop, par };
}

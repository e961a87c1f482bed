import type { ApiRoutesSection } from './api-routes.ts';
import type { ClientKeysSection } from './client-keys.ts';
import type { EnvReader } from './env.ts';
import type { ProviderSection } from './provider.ts';
import type { SitesSection } from './sites.ts';

/** LATCH_PROFILE: a security profile that turns settings on and checks the rest at start-up (docs/security.md, "FAPI 2.0"). */
export interface ProfileSection {
  /** LATCH_PROFILE=fapi2: the FAPI 2.0 Security Profile's client requirements. default none */
  readonly profile?: 'fapi2';
  /** The callback must carry `iss` (RFC 9207), whether or not the server advertises it. On under fapi2. */
  readonly requireIss: boolean;
}

/** The algorithms FAPI 2.0 allows for the signatures Latch checks or makes (ID tokens, client assertions; DPoP proofs are ES256). */
export const FAPI2_ALGS: readonly string[] = ['ES256', 'PS256'];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether `profile` is being asked for: read before the client keys, whose default RSA algorithm it changes. */
export function readProfileName(env: EnvReader): 'fapi2' | undefined {
  return env.str('LATCH_PROFILE') === undefined ? undefined : env.choice('LATCH_PROFILE', ['fapi2'], 'fapi2');
}

/**
 * The profile section's checks, over what the other sections read. Under fapi2 (what it turns on is
 * in loadConfig: DPoP and PAR): private_key_jwt with ES256 or PS256 keys; ID tokens pinned to ES256 or
 * PS256; `iss` required on the callback; every URL https, except on loopback with
 * LATCH_ALLOW_INSECURE_HTTP=true (development and tests). PKCE S256 is always on. Each problem names
 * the variable to change.
 */
export function checkProfile(
  env: EnvReader,
  profile: 'fapi2' | undefined,
  sections: { provider: ProviderSection; keys: ClientKeysSection; sites: SitesSection; api: ApiRoutesSection },
): ProfileSection {
  if (profile !== 'fapi2') return { requireIss: false };
  const { provider, keys, sites, api } = sections;
  const why = 'under LATCH_PROFILE=fapi2';
  if (provider.provider !== 'oidc') env.fail('LATCH_PROVIDER', `must be oidc ${why} (DPoP, PAR and private_key_jwt need a standard OpenID Connect server)`);
  if (provider.tokenAuthMethod !== 'private_key_jwt') env.fail('LATCH_TOKEN_AUTH_METHOD', `must be private_key_jwt ${why} (with LATCH_CLIENT_PRIVATE_KEY)`);
  keys.clientKeys.forEach((key, i) => {
    if (!FAPI2_ALGS.includes(key.alg)) env.fail('LATCH_CLIENT_PRIVATE_KEY', `key ${i + 1} signs ${key.alg}: ${why} only ES256 (a P-256 key) or PS256 (an RSA key) is allowed`);
  });
  if (!FAPI2_ALGS.includes(provider.idTokenAlg)) env.fail('LATCH_ID_TOKEN_ALG', `must be ES256 or PS256 ${why}, got ${provider.idTokenAlg}`);
  const insecure = (variable: string, value: string | URL | undefined) => {
    if (value === undefined) return;
    const url = new URL(value);
    if (url.protocol === 'https:') return;
    if (env.allowInsecureHttp && LOOPBACK.has(url.hostname)) return;
    env.fail(variable, `must be https:// ${why} (LATCH_ALLOW_INSECURE_HTTP=true allows http on loopback only), got ${url.origin}`);
  };
  insecure('LATCH_ISSUER', provider.issuer || undefined);
  insecure('LATCH_DISCOVERY_URL', provider.discoveryUrl);
  const endpointVariables: Record<string, string> = {
    authorization: 'LATCH_AUTHORIZATION_ENDPOINT', token: 'LATCH_TOKEN_ENDPOINT', userinfo: 'LATCH_USERINFO_ENDPOINT',
    revocation: 'LATCH_REVOCATION_ENDPOINT', endSession: 'LATCH_END_SESSION_ENDPOINT', jwks: 'LATCH_JWKS_URI',
  };
  for (const [name, value] of Object.entries(provider.endpoints)) insecure(endpointVariables[name] ?? 'LATCH_ISSUER', value);
  for (const site of sites.sites) insecure('LATCH_BASE_URL', site.baseUrl);
  for (const route of api.apiRoutes) insecure('LATCH_API_ROUTES', route.upstream);
  return { profile, requireIss: true };
}

import type { AuthorizationServer } from 'oauth4webapi';
import type { BffConfig, ProviderEndpoints } from '../config.ts';
import { clientKeysFor } from '../oauth/client-keys.ts';
import type { OutboundOptions } from '../oauth/outbound.ts';
import { OAuth2Provider } from './oauth2.ts';
import { OidcProvider, type OidcProviderOptions } from './oidc.ts';
import type { Provider, SignInResult } from './provider.ts';
import { ScayleProvider } from './scayle.ts';

/** A provider that can sign a user in with a username and password (the password grant). */
export interface PasswordGrantProvider extends Provider {
  passwordGrant(username: string, password: string): Promise<SignInResult>;
}

export function supportsPasswordGrant(provider: Provider): provider is PasswordGrantProvider {
  return typeof (provider as Partial<PasswordGrantProvider>).passwordGrant === 'function';
}

/** The provider LATCH_PROVIDER names: oidc (the default), oauth2 or scayle. `hooks`: metrics and tracing of its calls. */
export function createProvider(config: BffConfig, hooks: Pick<OutboundOptions, 'observe' | 'trace'> = {}): Provider {
  const outbound: OutboundOptions = { timeoutMs: config.httpTimeoutMs, allowInsecureHttp: config.allowInsecureHttp, ...hooks };
  switch (config.provider) {
    case 'scayle': {
      if (!config.scayle) throw new Error('LATCH_PROVIDER=scayle without its LATCH_SCAYLE_* configuration');
      return new ScayleProvider({
        ...config.scayle,
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        redirectUri: config.redirectUri,
        outbound,
      });
    }
    case 'oauth2':
      return new OAuth2Provider({ ...standardOptions(config, outbound), ...(config.oauth2 ? { oauth2: { ...config.oauth2, layout: metadataFrom(config.oauth2.layout) } } : {}) });
    default:
      return new OidcProvider(standardOptions(config, outbound));
  }
}

function standardOptions(config: BffConfig, outbound: OutboundOptions): OidcProviderOptions {
  return {
    issuer: config.issuer,
    discovery: config.discovery,
    ...(config.discoveryUrl ? { discoveryUrl: config.discoveryUrl } : {}),
    metadata: metadataFrom(config.endpoints),
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    serviceClientId: config.serviceClientId,
    serviceClientSecret: config.serviceClientSecret,
    tokenAuthMethod: config.tokenAuthMethod,
    ...(config.clientKeys.length ? { clientKeys: clientKeysFor(config.clientKeys)! } : {}),
    redirectUri: config.redirectUri,
    scopes: config.scopes,
    idTokenAlg: config.idTokenAlg,
    trustedAudiences: config.trustedAudiences,
    ...(config.dpop ? { dpop: true } : {}),
    ...(config.par ? { par: true } : {}),
    ...(config.requireIss ? { requireIss: true } : {}),
    ...audienceResources(config),
    outbound,
  };
}

/** User routes' audiences got by an RFC 8707 refresh (oauth/audience.ts): asked for at sign-in, as the refresh may only narrow what was granted. */
function audienceResources(config: BffConfig): { resources?: string[] } {
  const resources = [...new Set(config.apiRoutes.flatMap((r) => (r.token === 'user' && r.audience && r.exchange !== 'rfc8693' ? [r.audience] : [])))];
  return resources.length ? { resources } : {};
}

/** Endpoints given by hand, as server metadata: they replace discovery, or override what it found. */
function metadataFrom(endpoints: ProviderEndpoints): Partial<AuthorizationServer> {
  const names: Array<[keyof ProviderEndpoints, keyof AuthorizationServer]> = [
    ['authorization', 'authorization_endpoint'],
    ['token', 'token_endpoint'],
    ['userinfo', 'userinfo_endpoint'],
    ['revocation', 'revocation_endpoint'],
    ['endSession', 'end_session_endpoint'],
    ['jwks', 'jwks_uri'],
  ];
  const metadata: Record<string, string> = {};
  for (const [ours, theirs] of names) {
    const value = endpoints[ours];
    if (value !== undefined) metadata[theirs] = value;
  }
  return metadata as Partial<AuthorizationServer>;
}

import { readApiRoutes, type ApiRoute, type ApiRoutesSection } from './config/api-routes.ts';
import { readClientKeys, type ClientKeysSection } from './config/client-keys.ts';
import { EnvReader, type Env } from './config/env.ts';
import { readLimits, type LimitsSection } from './config/limits.ts';
import { readOperations, type OperationsSection } from './config/operations.ts';
import { checkProfile, readProfileName, type ProfileSection } from './config/profile.ts';
import type { ProviderSection } from './config/provider.ts';
import { checkSiteProviders, readProviders, type ProvidersSection } from './config/providers.ts';
import { readSessions, type SessionsSection } from './config/sessions.ts';
import { readSites, type SitesSection } from './config/sites.ts';
import { readTokenBinding, type TokenBindingSection } from './config/token-binding.ts';

export type { ApiRoute } from './config/api-routes.ts';
export type { ClientKeyConfig } from './config/client-keys.ts';
export type { ConfigProblem, Env } from './config/env.ts';
export type { OAuth2Config, ProviderEndpoints, ProviderKind, ScayleConfig, TokenAuthMethod } from './config/provider.ts';
export type { SiteConfig } from './config/sites.ts';
export type { NamedProvider } from './config/providers.ts';
export type { ApiRoutesSection, ProvidersSection, LimitsSection, OperationsSection, ProviderSection, SessionsSection, SitesSection, TokenBindingSection };

/**
 * The BFF's configuration: validated once at start-up, then frozen. bff/config/ is the only reader
 * of process.env. Each section is read by one function in bff/config/ and documents its own fields;
 * this is their sum, the README's table in the same order.
 */
export interface BffConfig extends ProviderSection, ProvidersSection, SitesSection, SessionsSection, ApiRoutesSection, LimitsSection, OperationsSection, TokenBindingSection, ClientKeysSection, ProfileSection {}

/**
 * Reads and validates the environment: every section, then the rules between sections. Collects
 * every problem before throwing one ConfigError that names each variable, grouped by section in the
 * order below.
 */
export function loadConfig(record: Env = process.env): BffConfig {
  const env = EnvReader.of(record);
  // The first provider's settings are the configuration's own (`config.issuer`…): the single provider's.
  const named = readProviders(env);
  const provider = named.providers[0]!.settings;
  const sites = readSites(env);
  const sessions = readSessions(env);
  const api = readApiRoutes(env);
  const limits = readLimits(env);
  const operations = readOperations(env);
  const profileName = readProfileName(env);
  const binding = readTokenBinding(env, provider.provider, profileName);
  // One set of client keys for the deployment: wanted when any provider signs its token requests with them.
  const keyMethod = named.providers.some((p) => p.settings.tokenAuthMethod === 'private_key_jwt') ? 'private_key_jwt' : provider.tokenAuthMethod;
  const keys = readClientKeys(env, keyMethod, profileName);
  const profile = checkProfile(env, profileName, { provider, keys, sites, api });

  // Between sections: the provider and the API routes.
  if (provider.provider === 'scayle' && api.apiRoutes.some((r) => r.token === 'service')) {
    env.fail('LATCH_API_ROUTES', 'service-token routes need a standard token endpoint, which SCAYLE has not');
  }
  if (provider.provider === 'scayle' && api.apiRoutes.some((r) => r.token === 'user' && r.audience)) {
    env.fail('LATCH_API_ROUTES', 'a token per API (_AUDIENCE on a user route) needs resource indicators or token exchange at a standard token endpoint, which SCAYLE has not');
  }
  checkSiteProviders(env, sites.sites, named.providers);
  if (profileName === 'fapi2') {
    for (const p of named.providers) {
      for (const [key, on] of Object.entries(p.binding ?? {})) if (!on) env.fail(`LATCH_PROVIDER_${p.name.toUpperCase()}_${key.toUpperCase()}`, 'cannot be false under LATCH_PROFILE=fapi2');
    }
  }
  env.throwIfProblems();
  // User-token API routes' scopes are asked for at sign-in. (Object.assign, not one literal of six
  // spreads: V8 builds that in about 100 µs, this in 5.)
  const scopes = withRouteScopes(provider.scopes, api.apiRoutes);
  const providers = named.providers.map((p) => ({ ...p, settings: { ...p.settings, scopes: withRouteScopes(p.settings.scopes, api.apiRoutes) } }));
  const config: BffConfig = Object.assign({}, provider, sites, sessions, api, limits, operations, binding, keys, profile, { scopes, providers });
  return Object.freeze(config);
}

/** `scopes` and each user-token route's LATCH_API_ROUTE_<NAME>_SCOPE, once each, in that order. */
function withRouteScopes(scopes: string, routes: readonly ApiRoute[]): string {
  const routeScopes = routes.flatMap((r) => (r.token === 'user' && r.scope ? r.scope.split(' ') : []));
  return [...new Set([...scopes.split(' '), ...routeScopes])].filter(Boolean).join(' ');
}

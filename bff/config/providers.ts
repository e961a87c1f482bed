import type { EnvReader } from './env.ts';
import { readBindingSettings } from './token-binding.ts';
import { readProvider, SINGLE_PROVIDER, type ProviderScope, type ProviderSection } from './provider.ts';

/** The name of the provider the single-provider variables (LATCH_ISSUER, LATCH_CLIENT_ID…) configure. */
export const DEFAULT_PROVIDER = 'default';

/** One provider a deployment offers (issue 17): its name, how pages show it, and its settings. */
export interface NamedProvider {
  /** Lower-case letters, digits and `_`: `/login?provider=<name>`, and `LATCH_PROVIDER_<NAME>_*`. */
  readonly name: string;
  /** LATCH_PROVIDER_<NAME>_LABEL (LATCH_PROVIDER_LABEL for `default`); default the name, capitalised ("Sign in" for `default`). */
  readonly label: string;
  /** LATCH_PROVIDER_<NAME>_ICON: an https:// or data:image/ URL. */
  readonly icon?: string;
  /**
   * LATCH_PROVIDER_<NAME>_TENANTS: the only tenants a templated issuer (`https://login.example.com/{tenant}`)
   * may be filled with; a site names its tenant (LATCH_SITES `tenant`). Absent: the issuer is no template.
   */
  readonly tenants?: readonly string[];
  /** Its settings, read under its prefix; `issuer` may hold `{tenant}` when `tenants` is set. */
  readonly settings: ProviderSection;
  /**
   * LATCH_PROVIDER_<NAME>_DPOP and _PAR: this provider's own choice over the deployment's LATCH_DPOP
   * and LATCH_PAR (a provider that issues no DPoP tokens, beside one that does). Absent: the
   * deployment's, for an oidc provider; never DPoP for another kind.
   */
  readonly binding?: { readonly dpop?: boolean; readonly par?: boolean };
}

/** The providers section: LATCH_PROVIDERS and each provider's settings. */
export interface ProvidersSection {
  /** In configured order; the first is the one a site without a choice signs in with. Never empty. */
  readonly providers: readonly NamedProvider[];
}

const NAME = /^[a-z][a-z0-9_]{0,31}$/;
/** A tenant fills a host label or a path segment: nothing that could change the URL's shape. */
const TENANT = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const TENANT_PLACEHOLDER = '{tenant}';
/** An icon travels in every `GET /providers` answer: a data: URL larger than this belongs on a server. */
const MAX_ICON_CHARS = 8192;

/** Where provider `name` reads its settings: the single-provider variables for `default`, else LATCH_PROVIDER_<NAME>_*. */
export function providerScope(name: string): ProviderScope {
  return name === DEFAULT_PROVIDER ? SINGLE_PROVIDER : { prefix: `LATCH_PROVIDER_${name.toUpperCase()}_`, kind: 'KIND' };
}

/**
 * LATCH_PROVIDERS=scalegrowth,google names the providers, each read by readProvider under its own
 * prefix (`default` in the list means the single-provider variables). Unset: the single provider,
 * named `default`, exactly as before. Every problem names its variable, so --check-config lists each
 * provider's problems under its own names.
 */
export function readProviders(env: EnvReader): ProvidersSection {
  const listed = env.str('LATCH_PROVIDERS');
  const names: string[] = [];
  for (const name of listed === undefined ? [DEFAULT_PROVIDER] : env.list('LATCH_PROVIDERS')) {
    if (!NAME.test(name)) env.fail('LATCH_PROVIDERS', `"${name}" is not a provider name (lower-case letters, digits and _, starting with a letter)`);
    else if (names.includes(name)) env.fail('LATCH_PROVIDERS', `names "${name}" twice`);
    else names.push(name);
  }
  if (listed !== undefined && names.length === 0 && env.list('LATCH_PROVIDERS').length === 0) env.fail('LATCH_PROVIDERS', 'lists no provider');
  if (names.length === 0) names.push(DEFAULT_PROVIDER);
  return { providers: names.map((name) => readNamed(env, name)) };
}

function readNamed(root: EnvReader, name: string): NamedProvider {
  const scope = providerScope(name);
  const env = root.under(scope.prefix);
  // `default`'s label and icon: LATCH_PROVIDER_LABEL, LATCH_PROVIDER_ICON (LATCH_LABEL would say nothing).
  const look = name === DEFAULT_PROVIDER ? root.under('LATCH_PROVIDER_') : env;
  const tenants = env.list('TENANTS');
  const template = env.str('ISSUER')?.includes(TENANT_PLACEHOLDER) ?? false;
  for (const tenant of tenants) if (!TENANT.test(tenant)) env.fail('TENANTS', `"${tenant}" is not a tenant name (lower-case letters, digits and dashes)`);
  if (tenants.length > 0 && !template) env.fail('TENANTS', `needs ${env.name('ISSUER')} to be a template holding ${TENANT_PLACEHOLDER}`);
  if (template && tenants.length === 0) env.fail('TENANTS', `is required: ${env.name('ISSUER')} is a template, and only the tenants listed here may fill it`);
  // A template is checked as the URL its first tenant makes (or a sample one): the placeholder is no URL.
  const settings = template ? readTemplated(root, scope, tenants[0] ?? 'tenant') : readProvider(root, scope);
  if (template && settings.provider !== 'oidc') env.fail('ISSUER', `a ${TENANT_PLACEHOLDER} template needs an oidc provider (discovery per tenant)`);
  if (template && !settings.discovery) env.fail('ISSUER', `a ${TENANT_PLACEHOLDER} template needs discovery (no endpoints by hand)`);
  if (template && settings.discoveryUrl) env.fail('DISCOVERY_URL', `cannot be set with a ${TENANT_PLACEHOLDER} issuer: each tenant's metadata is under its own issuer`);
  const label = look.str('LABEL') ?? (name === DEFAULT_PROVIDER ? 'Sign in' : name[0]!.toUpperCase() + name.slice(1));
  if (label.length > 64) look.fail('LABEL', 'must be at most 64 characters');
  const icon = readIcon(look);
  // Its own DPOP and PAR over the deployment's, when set.
  const binding = name === DEFAULT_PROVIDER ? {} : readBindingSettings(env, { dpop: 'DPOP', par: 'PAR' }, settings.provider);
  return {
    name,
    label,
    ...(icon ? { icon } : {}),
    ...(Object.keys(binding).length > 0 ? { binding } : {}),
    ...(template && tenants.length > 0 ? { tenants } : {}),
    settings: template ? { ...settings, issuer: env.str('ISSUER')! } : settings,
  };
}

/** readProvider over the environment with the issuer's template filled by `tenant`. */
function readTemplated(root: EnvReader, scope: ProviderScope, tenant: string): ProviderSection {
  return readProvider(root.withValue(`${scope.prefix}ISSUER`, (value) => value.replaceAll(TENANT_PLACEHOLDER, tenant)), scope);
}

/** _ICON: an https:// URL, or a data:image/ URL of at most MAX_ICON_CHARS characters (a page puts it in an <img>). */
function readIcon(env: EnvReader): string | undefined {
  const icon = env.str('ICON');
  if (icon === undefined) return undefined;
  if (icon.startsWith('data:')) {
    if (!/^data:image\/(?:png|gif|jpeg|webp|svg\+xml)(?:;base64)?,[A-Za-z0-9+/=%._~!$&'()*,;:@-]+$/.test(icon)) {
      env.fail('ICON', 'must be a data:image/ URL (png, gif, jpeg, webp or svg+xml) with no spaces or quotes');
      return undefined;
    }
    if (icon.length > MAX_ICON_CHARS) {
      env.fail('ICON', `must be at most ${MAX_ICON_CHARS} characters as a data: URL (serve a larger one over https://)`);
      return undefined;
    }
    return icon;
  }
  let url: URL;
  try {
    url = new URL(icon);
  } catch {
    env.fail('ICON', `must be an https:// or data:image/ URL, got "${icon}"`);
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username || url.password) {
    env.fail('ICON', 'must be an https:// URL without credentials, or a data:image/ URL');
    return undefined;
  }
  return url.href;
}

/** The issuer of `provider` for `tenant` (the template filled), or its issuer as configured. */
export function issuerFor(provider: NamedProvider, tenant: string | undefined): string {
  return tenant === undefined ? provider.settings.issuer : provider.settings.issuer.replaceAll(TENANT_PLACEHOLDER, tenant);
}

/**
 * The providers `site` offers, in order: its `provider`/`providers` when it names them, else every
 * provider it can use (those without a template, and templated ones when it names a tenant).
 */
export function offeredBy(site: { readonly providers?: readonly string[]; readonly tenant?: string }, providers: readonly NamedProvider[]): NamedProvider[] {
  if (site.providers) return site.providers.flatMap((name) => providers.filter((p) => p.name === name));
  return providers.filter((p) => !p.tenants || site.tenant !== undefined);
}

/** Between the sites and the providers: names that exist, tenants that are allowed, a provider for every site. */
export function checkSiteProviders(env: EnvReader, sites: readonly { readonly baseUrl: URL; readonly providers?: readonly string[]; readonly tenant?: string }[], providers: readonly NamedProvider[]): void {
  for (const site of sites) {
    const where = `LATCH_SITES (${site.baseUrl.host})`;
    for (const name of site.providers ?? []) {
      if (!providers.some((p) => p.name === name)) env.fail(`${where}.providers`, `names "${name}", which LATCH_PROVIDERS does not list`);
    }
    const offered = offeredBy(site, providers);
    if (offered.length === 0 && (site.providers ?? []).every((name) => providers.some((p) => p.name === name))) {
      env.fail(`${where}.providers`, 'leaves this site no provider (a templated provider needs the site to name its tenant)');
    }
    for (const provider of offered) {
      if (!provider.tenants) continue;
      if (site.tenant === undefined) env.fail(`${where}.tenant`, `is required: provider "${provider.name}" has a ${TENANT_PLACEHOLDER} issuer`);
      else if (!provider.tenants.includes(site.tenant)) env.fail(`${where}.tenant`, `"${site.tenant}" is not one of ${providerScope(provider.name).prefix}TENANTS`);
    }
    if (site.tenant !== undefined && !offered.some((p) => p.tenants)) env.fail(`${where}.tenant`, 'is set, but none of the site\'s providers has a {tenant} issuer');
  }
}

/**
 * The deployment's providers (issue 17, docs/providers.md): each configured provider built once, and
 * once per tenant for a templated issuer, on first use. Everything that acts for a session asks here
 * for the session's own provider (refresh, revocation, logout, service tokens); /login for the one
 * the page chose among the site's; /callback for the one its transaction recorded; back-channel
 * logout for the one whose issuer signed the token.
 *
 * A tenant is only ever one of its provider's configured TENANTS (checked here again, whatever the
 * caller), so no request can make the BFF fetch metadata from an address of its choosing: the Host
 * header picks a site among LATCH_SITES, the site names its tenant in the configuration, and the
 * issuer is the configured template filled with that name.
 */
import type { BffConfig } from '../config.ts';
import { DEFAULT_PROVIDER, issuerFor, offeredBy, type NamedProvider } from '../config/providers.ts';
import { bindingSupported } from '../config/token-binding.ts';
import { LatchError } from '../errors.ts';
import { createServiceTokens, type ServiceTokens } from '../oauth/service-token.ts';
import type { Provider } from './provider.ts';

/** Which provider a session or a sign-in belongs to: a name of LATCH_PROVIDERS, and its tenant for a templated one. */
export interface ProviderRef {
  readonly name: string;
  readonly tenant?: string | undefined;
}

/** What a site offers (`GET /providers`, `/login?provider=`). */
export interface SiteProviders {
  readonly providers?: readonly string[];
  readonly tenant?: string;
}

export class ProviderRegistry {
  readonly #config: BffConfig;
  readonly #build: (config: BffConfig) => Provider;
  readonly #byName: ReadonlyMap<string, NamedProvider>;
  readonly #built = new Map<string, Provider>();
  readonly #serviceTokens = new WeakMap<Provider, ServiceTokens>();
  /** The provider a request without a choice uses: the first configured (for its first tenant when templated). */
  readonly primary: ProviderRef;

  /**
   * `build` makes one provider of a configuration (providers/index.ts createProvider). `override`
   * (createBff's `provider` option) stands for the first provider.
   */
  constructor(config: BffConfig, build: (config: BffConfig) => Provider, override?: Provider) {
    this.#config = config;
    this.#build = build;
    this.#byName = new Map(config.providers.map((p) => [p.name, p]));
    const first = config.providers[0]!;
    this.primary = { name: first.name, tenant: first.tenants?.[0] };
    if (override) this.#built.set(key(this.primary), override);
  }

  /** The configured providers, in order. */
  get configured(): readonly NamedProvider[] {
    return this.#config.providers;
  }

  /** The providers `site` offers, in configured order (the site's own order when it names them). */
  offeredBy(site: SiteProviders): NamedProvider[] {
    return offeredBy(site, this.#config.providers);
  }

  /**
   * The provider `/login?provider=<name>` starts a sign-in with on `site`: the named one when the site
   * offers it, the site's first without a name. Anything else: 400 LATCH_PROVIDER_UNKNOWN.
   */
  forLogin(site: SiteProviders, name: string | null): { ref: ProviderRef; named: NamedProvider; provider: Provider } {
    const offered = this.offeredBy(site);
    const chosen = name === null ? offered[0] : offered.find((p) => p.name === name);
    if (!chosen) throw new LatchError('LATCH_PROVIDER_UNKNOWN', { detail: `No provider "${String(name).slice(0, 64)}" on this site.` });
    const ref = { name: chosen.name, ...(chosen.tenants ? { tenant: site.tenant } : {}) };
    return { ref, named: chosen, provider: this.get(ref) };
  }

  /** The provider `ref` names; 400 LATCH_PROVIDER_UNKNOWN for a name or tenant not configured. */
  get(ref: ProviderRef): Provider {
    const k = key(ref);
    const built = this.#built.get(k);
    if (built) return built;
    const named = this.#byName.get(ref.name);
    if (!named) throw new LatchError('LATCH_PROVIDER_UNKNOWN', { detail: `Provider "${ref.name.slice(0, 64)}" is not configured.` });
    if (named.tenants ? ref.tenant === undefined || !named.tenants.includes(ref.tenant) : ref.tenant !== undefined) {
      throw new LatchError('LATCH_PROVIDER_UNKNOWN', { detail: `Provider "${ref.name}" has no tenant "${String(ref.tenant).slice(0, 64)}".` });
    }
    // The deployment's DPoP and PAR reach the providers that can take them, unless one sets its own.
    const supported = bindingSupported(named.settings.provider);
    const binding = { dpop: named.binding?.dpop ?? (this.#config.dpop && supported.dpop), par: named.binding?.par ?? (this.#config.par && supported.par) };
    const provider = this.#build({ ...this.#config, ...named.settings, ...binding, issuer: issuerFor(named, ref.tenant) });
    this.#built.set(k, provider);
    return provider;
  }

  /**
   * The provider a session signed in with (its `pv` and `pvt`). A session without one was made by the
   * single-provider configuration: `default` when it is still configured, else the first provider.
   */
  forSession(session: { pv?: string; pvt?: string }): Provider {
    try {
      return this.get(this.refOf(session));
    } catch (err) {
      // Its provider (or tenant) is no longer configured: the session cannot be refreshed or ended there.
      if (err instanceof LatchError && err.code === 'LATCH_PROVIDER_UNKNOWN') throw new LatchError('LATCH_SESSION_EXPIRED', { detail: err.detail, cause: err });
      throw err;
    }
  }

  /** forSession, or null when the session's provider is no longer configured (logout goes on without it). */
  forSessionOrNull(session: { pv?: string; pvt?: string }): Provider | null {
    try {
      return this.forSession(session);
    } catch {
      return null;
    }
  }

  refOf(session: { pv?: string; pvt?: string }): ProviderRef {
    if (session.pv !== undefined) return { name: session.pv, tenant: session.pvt };
    return this.#byName.has(DEFAULT_PROVIDER) ? { name: DEFAULT_PROVIDER } : this.primary;
  }

  /**
   * The provider whose issuer is `iss` (a back-channel logout token's, before its signature is
   * checked: the signature is then checked against that provider's keys only). Every configured
   * issuer, every allowed tenant's included; null for none.
   */
  byIssuer(iss: string): Provider | null {
    for (const named of this.#config.providers) {
      for (const tenant of named.tenants ?? [undefined]) {
        if (issuerFor(named, tenant) === iss) return this.get({ name: named.name, tenant });
      }
    }
    // One provider, no tenants: as before issue 17, its own verification judges the issuer.
    const only = this.#config.providers.length === 1 ? this.#config.providers[0]! : undefined;
    return only && !only.tenants ? this.get({ name: only.name }) : null;
  }

  /**
   * The states a callback may claim, in order: those the configured providers that wrap the state
   * (SCAYLE: `callbackState`) read from it, then the plain `state` parameter. A single provider that
   * wraps it gives only its own reading, as before issue 17.
   */
  callbackStates(url: URL, plain: string): string[] {
    const states: string[] = [];
    for (const named of this.#config.providers) {
      if (named.tenants) continue;
      const provider = this.get({ name: named.name });
      if (provider.callbackState) states.push(provider.callbackState(url) ?? '');
    }
    if (this.#config.providers.length > 1 || states.length === 0) states.push(plain);
    return [...new Set(states)];
  }

  /** The client-credentials tokens of `provider`'s service client, one cache per provider. */
  serviceTokens(provider: Provider): ServiceTokens {
    let tokens = this.#serviceTokens.get(provider);
    if (!tokens) this.#serviceTokens.set(provider, (tokens = createServiceTokens(provider)));
    return tokens;
  }
}

const key = (ref: ProviderRef) => (ref.tenant === undefined ? ref.name : `${ref.name}\u0000${ref.tenant}`);

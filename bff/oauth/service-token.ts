import * as oauth from 'oauth4webapi';
import { LatchError } from '../errors.ts';
import type { Provider } from '../providers/provider.ts';
import { assertBearer, outbound, requestOptions } from './outbound.ts';
import { SingleFlight } from './singleflight.ts';

/** What the BFF asks for when it calls an API as itself (client credentials, RFC 6749 4.4). */
export interface ServiceTokenRequest {
  /** Space-separated scopes; order and repeats do not matter. */
  scope?: string;
  /** The API's identifier, sent as an RFC 8707 `resource` indicator. */
  audience?: string;
}

export interface ServiceToken {
  accessToken: string;
  /** Epoch ms when the token expires. */
  expiresAt: number;
  /** The scope granted, when the server said. */
  scope?: string;
}

export interface ServiceTokensOptions {
  /** Refetch this long before expiry (capped at half the token's lifetime). default 30 000 ms */
  refreshMarginMs?: number;
  /** Lifetime assumed when the server sends no expires_in. default 300 s */
  defaultTtlS?: number;
}

export interface ServiceTokens {
  /** A cached token for this scope and audience, fetched when missing or close to expiry. */
  getServiceToken(request?: ServiceTokenRequest): Promise<ServiceToken>;
  /** Forgets `accessToken` (e.g. an API refused it) so the next call fetches a new one. */
  invalidate(request: ServiceTokenRequest, accessToken: string): void;
}

interface Cached extends ServiceToken {
  /** Epoch ms from which the token counts as stale. */
  refreshAt: number;
}

/** One cache key per (scope set, audience). */
export function serviceTokenKey(request: ServiceTokenRequest = {}): string {
  const scope = [...new Set((request.scope ?? '').split(' ').filter(Boolean))].sort().join(' ');
  return `${scope}\n${request.audience ?? ''}`;
}

/**
 * Client-credentials tokens for the BFF's own calls to APIs, from the provider's token endpoint.
 * Cached per (scope, audience) until shortly before they expire; concurrent callers for one key
 * share one request. Failures are not cached. Tokens live in memory only, never in a cookie.
 */
export function createServiceTokens(provider: Provider, options: ServiceTokensOptions = {}): ServiceTokens {
  const margin = options.refreshMarginMs ?? 30_000;
  const defaultTtl = options.defaultTtlS ?? 300;
  const cache = new Map<string, Cached>();
  const flights = new SingleFlight<Cached>();

  async function fetchToken(request: ServiceTokenRequest): Promise<Cached> {
    if (!provider.tokenEndpoint) {
      throw new LatchError('LATCH_UPSTREAM_ERROR', 502, 'This authorization server cannot issue service tokens.', {
        cause: new Error(`provider "${provider.kind}" has no standard token endpoint`),
      });
    }
    const { as, client, clientAuth, outbound: out } = await provider.tokenEndpoint();
    const params = new URLSearchParams();
    if (request.scope) params.set('scope', request.scope);
    if (request.audience) params.set('resource', request.audience);
    const started = Date.now();
    let response: oauth.TokenEndpointResponse;
    try {
      response = await outbound(out, 'client credentials', async () => {
        const res = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, params, requestOptions(out));
        const processed = await oauth.processClientCredentialsResponse(as, client, res);
        assertBearer(processed);
        return processed;
      });
    } catch (err) {
      // A refusal (invalid_client, invalid_scope, invalid_target) is our configuration's fault, not the caller's.
      if (err instanceof LatchError && err.status < 500) {
        throw new LatchError('LATCH_TOKEN_EXCHANGE_FAILED', 502, 'The authorization server refused the service token request.', { cause: err });
      }
      throw err;
    }
    const ttlMs = (typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in : defaultTtl) * 1000;
    return {
      accessToken: response.access_token,
      expiresAt: started + ttlMs,
      // Measured from before the request, so network time only makes us refresh earlier.
      refreshAt: started + Math.max(ttlMs - margin, ttlMs / 2),
      ...(response.scope ? { scope: response.scope } : {}),
    };
  }

  return {
    async getServiceToken(request = {}) {
      const key = serviceTokenKey(request);
      const hit = cache.get(key);
      if (hit && Date.now() < hit.refreshAt) return publicView(hit);
      const token = await flights.run(key, async () => {
        const fresh = await fetchToken(request);
        cache.set(key, fresh);
        return fresh;
      });
      return publicView(token);
    },
    invalidate(request, accessToken) {
      const key = serviceTokenKey(request);
      if (cache.get(key)?.accessToken === accessToken) cache.delete(key);
    },
  };
}

function publicView(token: Cached): ServiceToken {
  return { accessToken: token.accessToken, expiresAt: token.expiresAt, ...(token.scope ? { scope: token.scope } : {}) };
}

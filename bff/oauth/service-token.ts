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
      throw new LatchError('LATCH_UPSTREAM_ERROR', {
        detail: `This authorization server cannot issue service tokens: provider "${provider.kind}" has no standard token endpoint.`,
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
      const refusal = err instanceof LatchError ? refusalOf(err.cause) : undefined;
      if (refusal !== undefined || (err instanceof LatchError && err.status < 500)) {
        throw new LatchError('LATCH_CLIENT_REFUSED', { detail: refusedBecause(refusal, client.client_id, request), cause: err });
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

/**
 * The server's OAuth error code: from the JSON body, or `invalid_client` for a 401 challenge (what
 * django-oauth-toolkit answers to a wrong client secret, with `WWW-Authenticate: Bearer error="invalid_client"`).
 */
export function refusalOf(cause: unknown): string | undefined {
  if (cause instanceof oauth.ResponseBodyError) return cause.error;
  if (cause instanceof oauth.WWWAuthenticateChallengeError && cause.status === 401) return 'invalid_client';
  return undefined;
}

/** What the operator should change, by the server's error code (the error's `detail`: the log's message, and the caller's). */
function refusedBecause(error: string | undefined, clientId: string, request: ServiceTokenRequest): string {
  const refused = `The authorization server refused the service token request of client "${clientId}"`;
  switch (error) {
    case 'unauthorized_client':
    case 'unsupported_grant_type':
      return `LATCH_SERVICE_CLIENT_ID: ${refused} (${error}): it may not use the client_credentials grant. Servers that allow one grant type per client (django-oauth-toolkit) need a second application, of grant type "Client credentials": set LATCH_SERVICE_CLIENT_ID and LATCH_SERVICE_CLIENT_SECRET to its credentials.`;
    case 'invalid_client':
      return `LATCH_SERVICE_CLIENT_SECRET: ${refused} (invalid_client): check LATCH_SERVICE_CLIENT_ID and LATCH_SERVICE_CLIENT_SECRET (default: LATCH_CLIENT_ID and LATCH_CLIENT_SECRET).`;
    case 'invalid_scope':
      return `LATCH_API_ROUTE_<NAME>_SCOPE: ${refused} for the scope "${request.scope ?? ''}" (invalid_scope): ask only for scopes the server defines for that client.`;
    case 'invalid_target':
      return `LATCH_API_ROUTE_<NAME>_AUDIENCE: ${refused} for the resource "${request.audience ?? ''}" (invalid_target).`;
    default:
      return `${refused}${error ? ` (${error})` : ''}.`;
  }
}

function publicView(token: Cached): ServiceToken {
  return { accessToken: token.accessToken, expiresAt: token.expiresAt, ...(token.scope ? { scope: token.scope } : {}) };
}

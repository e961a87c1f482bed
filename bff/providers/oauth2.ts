import * as oauth from 'oauth4webapi';
import type { OAuth2Config } from '../config.ts';
import type { LatchUser } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { outbound, requestOptions } from '../oauth/outbound.ts';
import { refusalOf } from '../oauth/service-token.ts';
import { CallbackError, OidcProvider, type OidcProviderOptions } from './oidc.ts';
import { pickUserClaims, type LoginTransaction, type SignInResult } from './provider.ts';

export interface OAuth2ProviderOptions extends Omit<OidcProviderOptions, 'requireIdToken'> {
  /**
   * From LATCH_OAUTH2_BASE_URL / LATCH_DISCOVERY_URL (config.oauth2), the layout as server metadata.
   * Absent: the endpoints are given by hand and `scopes` is used as it is.
   */
  oauth2?: Omit<OAuth2Config, 'layout'> & { layout: Partial<oauth.AuthorizationServer> };
}

/** Userinfo and metadata answers larger than this are refused (a misconfigured endpoint serving a page, say). */
const MAX_JSON_BYTES = 64 * 1024;

/** Asked for besides `openid` when the server's metadata lists them in `scopes_supported`. */
const OPTIONAL_SCOPES = ['profile', 'email', 'offline_access'];

/**
 * A plain OAuth 2.0 server (LATCH_PROVIDER=oauth2), such as django-oauth-toolkit serving
 * `/o/authorize/`, `/o/token/`, `/o/userinfo/` and `/o/revoke_token/` (ScaleGrowth's endpoints).
 *
 * Such a server may speak OpenID Connect too. With LATCH_OAUTH2_BASE_URL the provider looks for its
 * OpenID metadata where that layout publishes it (`/o/.well-known/openid-configuration`, with or
 * without the trailing slash: DOT 1.x knows only the latter) and takes the issuer, the key set and
 * the userinfo endpoint from there; the layout fills what the metadata leaves out (DOT's has no
 * revocation endpoint) and endpoints given by hand override both. Without LATCH_SCOPES it asks for
 * `openid` then, so the ID token is required and verified exactly as for `oidc`, and DOT's userinfo
 * (which serves only `openid` tokens) answers. No metadata there (404): plain OAuth 2.0, no `scope`
 * parameter unless LATCH_SCOPES says, no ID token, and the user comes from userinfo alone, which may
 * be any JSON object naming the user by `sub` or, failing that, `id`.
 *
 * Access tokens may be opaque, refresh tokens may or may not rotate (the old one is kept when none
 * comes back). A refusal that only the configuration can fix (a scope the server does not define, a
 * grant the client may not use, userinfo refusing the token) is answered with a message that names
 * the variable to change and the likely fix, on the error page and in the log.
 */
export class OAuth2Provider extends OidcProvider {
  override readonly kind: string = 'oauth2';
  readonly #plan: OAuth2ProviderOptions['oauth2'];
  /** LATCH_SCOPES as given, or (unset) the user-token routes' scopes, added to the ones picked. */
  readonly #configuredScopes: string;

  constructor(options: OAuth2ProviderOptions) {
    const { oauth2: plan, ...rest } = options;
    super({ ...rest, requireIdToken: rest.scopes.split(' ').includes('openid') });
    this.#plan = plan;
    this.#configuredScopes = rest.scopes;
  }

  protected override async loadMetadata(): Promise<oauth.AuthorizationServer> {
    const plan = this.#plan;
    if (!plan || plan.metadataUrls.length === 0) return super.loadMetadata();
    const { options } = this;
    const found = await this.#findMetadata(plan.metadataUrls, plan.metadataRequired);
    if (found && plan.issuerGiven && found.issuer !== options.issuer) {
      throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: `LATCH_ISSUER: the server's metadata names the issuer "${found.issuer}", not "${options.issuer}". Correct LATCH_ISSUER, or leave it unset to take the metadata's.` });
    }
    const as = { issuer: options.issuer, ...plan.layout, ...found, ...options.metadata } as oauth.AuthorizationServer;
    // Settled here, before any request uses them: every method awaits the metadata first.
    if (!plan.scopesGiven) options.scopes = pickScopes(found, this.#configuredScopes);
    options.requireIdToken = options.scopes.split(' ').includes('openid');
    if (options.requireIdToken && !as.jwks_uri) {
      throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'LATCH_JWKS_URI: ID tokens are expected (openid in LATCH_SCOPES) but the server publishes no key set. Set LATCH_JWKS_URI, or drop openid from LATCH_SCOPES.' });
    }
    return as;
  }

  /**
   * The first of `urls` that answers OpenID metadata (a JSON object naming its issuer). A redirect, a
   * 4xx or a page that is not JSON means "not here"; 5xx, a timeout or no connection fail the load
   * (not cached: the next request asks again), so an outage never passes for a server without OIDC.
   */
  async #findMetadata(urls: readonly string[], required: boolean): Promise<oauth.AuthorizationServer | null> {
    const out = this.options.outbound;
    const seen: string[] = [];
    for (const url of urls) {
      const found = await outbound(out, 'discovery', async () => {
        const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(out.timeoutMs) });
        const text = await res.text();
        if (res.status >= 500) throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: `The server's metadata (${url}) answered ${res.status}.` });
        seen.push(`${res.status}`);
        if (res.status !== 200 || !/^application\/([\w.+-]+\+)?json\b/i.test(res.headers.get('content-type') ?? '')) return null;
        const doc = text.length <= MAX_JSON_BYTES ? parseObject(text) : undefined;
        const issuer = typeof doc?.['issuer'] === 'string' ? URL.parse(doc['issuer']) : null;
        if (!doc || !issuer || (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && out.allowInsecureHttp))) {
          throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: `The server's metadata (${url}) does not name an https issuer.` });
        }
        return doc as unknown as oauth.AuthorizationServer;
      });
      if (found) return found;
    }
    if (required) {
      throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: `LATCH_DISCOVERY_URL: no OpenID metadata there (${seen.join(', ')}).` });
    }
    return null;
  }

  override async authorizationUrl(tx: LoginTransaction, params: Record<string, string>): Promise<URL> {
    const url = await super.authorizationUrl(tx, params);
    // No scopes chosen: the server's defaults (RFC 6749 3.3), rather than an empty scope it may refuse.
    if (!this.options.scopes) url.searchParams.delete('scope');
    return url;
  }

  override async handleCallback(callback: URL, tx: LoginTransaction): Promise<SignInResult> {
    try {
      return await super.handleCallback(callback, tx);
    } catch (err) {
      throw this.#explain(err, 'authorization code');
    }
  }

  override async passwordGrant(username: string, password: string): Promise<SignInResult> {
    try {
      return await super.passwordGrant(username, password);
    } catch (err) {
      throw this.#explain(err, 'password');
    }
  }

  /** A refusal only the configuration can fix, as a 502 naming the variable and the likely fix. */
  #explain(err: unknown, grant: 'authorization code' | 'password'): unknown {
    const reason = err instanceof CallbackError ? err.reason : err instanceof LatchError ? refusalOf(err.cause) : undefined;
    if (reason === 'invalid_scope') {
      const scopes = this.options.scopes;
      const fix = this.#plan?.scopesGiven === false
        ? `Add them to the server's scopes (django-oauth-toolkit: OAUTH2_PROVIDER["SCOPES"], with "openid" and OIDC_ENABLED for OpenID Connect), or set LATCH_SCOPES to scopes it defines.`
        : `Set LATCH_SCOPES to scopes the server defines (django-oauth-toolkit: the keys of OAUTH2_PROVIDER["SCOPES"]), or leave it unset to ask for "openid" when the server speaks OpenID Connect.`;
      return new LatchError('LATCH_SCOPE_REFUSED', { detail: `LATCH_SCOPES: the authorization server refused the scopes "${scopes}" (invalid_scope). ${fix}`, cause: err });
    }
    if (reason === 'unauthorized_client') {
      const kind = grant === 'password' ? 'Resource owner password-based' : 'Authorization code';
      return new LatchError('LATCH_CLIENT_REFUSED', { detail: `LATCH_CLIENT_ID: the authorization server does not let this client use the ${grant} grant (unauthorized_client). Servers that allow one grant type per client (django-oauth-toolkit) need the credentials of an application whose grant type is "${kind}" here.`, cause: err });
    }
    if (reason === 'invalid_client') {
      return new LatchError('LATCH_CLIENT_REFUSED', { detail: `LATCH_CLIENT_SECRET: the authorization server refused the client's credentials (invalid_client). Check LATCH_CLIENT_ID and LATCH_CLIENT_SECRET, and LATCH_TOKEN_AUTH_METHOD (client_secret_basic unless set).`, cause: err });
    }
    return err;
  }

  override async userinfo(accessToken: string, expectedSub: string | undefined): Promise<LatchUser> {
    const as = await this.metadata();
    if (!as.userinfo_endpoint) {
      throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The authorization server has no userinfo endpoint.' });
    }
    const endpoint = as.userinfo_endpoint;
    const body = await outbound(this.options.outbound, 'userinfo', async () => {
      const res = await oauth.userInfoRequest(as, this.client, accessToken, requestOptions(this.options.outbound));
      const text = await res.text();
      if (res.status === 401 || res.status === 403) throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: this.#userinfoRefused(endpoint, res.status) });
      if (res.status === 404) {
        throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: `LATCH_USERINFO_ENDPOINT: The userinfo endpoint (${endpoint}) answered 404. django-oauth-toolkit serves /o/userinfo/ only with OIDC_ENABLED; a server without OpenID Connect needs LATCH_USERINFO_ENDPOINT set to its own profile API.` });
      }
      if (!res.ok) {
        throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: `The userinfo endpoint answered ${res.status}.` });
      }
      if (!/^application\/([\w.+-]+\+)?json\b/i.test(res.headers.get('content-type') ?? '') || text.length > MAX_JSON_BYTES) {
        throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The userinfo endpoint did not answer JSON.' });
      }
      const parsed = parseObject(text);
      if (!parsed) throw new LatchError('LATCH_UPSTREAM_ERROR', { detail: 'The userinfo answer is not a JSON object.' });
      return parsed;
    });
    const sub = stableId(body['sub']) ?? stableId(body['id']);
    if (sub === undefined) {
      throw new LatchError('LATCH_USERINFO_INVALID', { detail: 'Userinfo does not name the user (no "sub" or "id").' });
    }
    if (expectedSub !== undefined && sub !== expectedSub) {
      throw new LatchError('LATCH_USERINFO_INVALID', { detail: 'Userinfo did not match the signed-in user.' });
    }
    const { id: _id, ...claims } = body;
    return pickUserClaims({ ...claims, sub });
  }

  /** Why userinfo refused a fresh access token, as far as the configuration can tell. */
  #userinfoRefused(endpoint: string, status: number): string {
    const said = `The userinfo endpoint (${endpoint}) refused the access token (${status}).`;
    if (!this.options.scopes.split(' ').includes('openid')) {
      return `LATCH_SCOPES: ${said} django-oauth-toolkit serves /o/userinfo/ only to tokens with the openid scope: leave LATCH_SCOPES unset, or add openid to it (the server needs OIDC_ENABLED and "openid" in its SCOPES). A server without OpenID Connect needs LATCH_USERINFO_ENDPOINT set to its own profile API.`;
    }
    return `LATCH_USERINFO_ENDPOINT: ${said} Check that it is the server's userinfo endpoint and that LATCH_SCOPES grants access to it.`;
  }
}

/** `openid` (and the optional scopes the metadata lists) with OpenID metadata, none without; then the configured ones. */
function pickScopes(metadata: oauth.AuthorizationServer | null, configured: string): string {
  const supported = Array.isArray(metadata?.scopes_supported) ? metadata.scopes_supported : [];
  const picked = metadata ? ['openid', ...OPTIONAL_SCOPES.filter((s) => supported.includes(s))] : [];
  return [...new Set([...picked, ...configured.split(' ')])].filter(Boolean).join(' ');
}

/** A JSON object, or undefined for anything else (malformed, an array, a string). */
function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A non-empty string, or a whole number (many OAuth 2.0 servers number their users), as a string. */
function stableId(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '' && value.length <= 255) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

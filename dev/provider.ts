/**
 * A development OpenID Provider: real `oidc-provider` with a real login form, started in-process.
 *
 * It serves `npm start`'s demo and every integration test. Dev/test only: nothing in bff/ may import dev/.
 *
 * What is real: authorization code + PKCE (S256, required for every client), refresh tokens (rotated by
 * default), userinfo, revocation, introspection, RP-initiated logout, client credentials, optional JWT access
 * tokens (RFC 9068) via resource indicators, optional back-channel logout. The login form checks the password;
 * consent is granted automatically (no second screen).
 *
 * Completing an RP-initiated logout (end_session): GET the end-session URL with the provider's cookies; the
 * answer is a confirm page holding `<form id="op.logoutForm" method="post" action=".../confirm">` with a hidden
 * `xsrf` input. POST that form's hidden inputs plus `logout=yes` (the "Sign out" button) to its action; the
 * provider ends the session and answers 303 to the post_logout_redirect_uri (or to its own success page).
 * When the provider has no session for the browser, the page is a self-submitting form carrying `xsrf` and
 * `logout=yes` already. test/helpers/http.ts `completeProviderLogout()` does exactly this.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { IncomingMessage } from 'node:http';
// Before oidc-provider, whose module warns about Node 20 as it loads (see the module).
import './node-support.ts';
import Provider, { errors, interactionPolicy } from 'oidc-provider';
import type {
  Account,
  Adapter,
  AdapterPayload,
  ClientMetadata,
  Configuration,
  KoaContextWithOIDC,
  ResourceServer,
} from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import type Koa from 'koa';
import { bind } from './listen.ts';

export interface DevUser {
  sub: string;
  login: string;
  password: string;
  name: string;
  email: string;
  email_verified: boolean;
  picture?: string;
  /** Extra claims, released with the `profile` scope. */
  extra?: Record<string, unknown>;
}

export interface DevClient {
  client_id: string;
  /** The application's name, shown on the sign-in and sign-out pages (default: the client id). */
  client_name?: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  /** default 'client_secret_basic' */
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** private_key_jwt: where the client's public keys are (the BFF's /.well-known/jwks.json). */
  jwks_uri?: string;
  /** default ['authorization_code', 'refresh_token'] */
  grant_types?: string[];
  backchannel_logout_uri?: string;
  /** DPoP required for this client: every access token it gets is DPoP-bound (RFC 9449 `dpop_bound_access_tokens`). */
  dpop_bound_access_tokens?: boolean;
}

export type DevRouteName =
  | 'authorization'
  | 'token'
  | 'userinfo'
  | 'revocation'
  | 'end_session'
  | 'jwks'
  | 'introspection';

export interface DevProviderOptions {
  /** Interface to bind and host name of the issuer. default '127.0.0.1' */
  host?: string;
  /** default 0 (a free port) */
  port?: number;
  clients: DevClient[];
  /** default: one demo user, login 'demo@latch.test', a random password generated at start, name 'Dana Demo' */
  users?: DevUser[];
  /** seconds, default 3600 (also the TTL of client-credentials tokens) */
  accessTokenTtl?: number;
  /** seconds, default 3600 */
  idTokenTtl?: number;
  /** default true */
  rotateRefreshTokens?: boolean;
  /** Issue JWT access tokens (RFC 9068) for this resource indicator; default: opaque tokens. */
  jwtAccessTokens?: { resource: string; scopes: string[] };
  /**
   * More APIs that get JWT access tokens of their own (RFC 9068), each for its `resource` alone: asked
   * for with `resource` at sign-in and in refresh-token grants (RFC 8707), or with `audience` in a token
   * exchange (`tokenExchange`). A sign-in that asks for several resources gets an opaque main token
   * (for userinfo) unless `jwtAccessTokens`' resource is among them.
   */
  resources?: Array<{ resource: string; scopes: string[] }>;
  /**
   * Register an RFC 8693 token-exchange grant (oidc-provider has none): a client trades a user's
   * (opaque) access token it was issued for a JWT access token for one of the `resources` (or
   * `jwtAccessTokens`), named by `audience` or `resource`. Every client may use it. A request with a
   * DPoP proof gets a token bound to its key, as oidc-provider's own grants do. default false
   */
  tokenExchange?: boolean;
  /** Rename endpoint paths, e.g. { authorization: '/o/authorize/', token: '/o/token/' } (kept verbatim). */
  routes?: Partial<Record<DevRouteName, string>>;
  /** Enable the backchannelLogout feature. default false */
  backchannelLogout?: boolean;
  /**
   * Advertise authorization_response_iss_parameter_supported and send iss on callbacks (RFC 9207).
   * default true. With false the discovery field is removed and `iss` is stripped from redirects to clients.
   */
  issParameter?: boolean;
  /**
   * Put the scope-requested claims (name, email, ...) in the ID token too, as most hosted providers do.
   * default true. With false, oidc-provider's strict default applies: those claims come from userinfo only.
   */
  idTokenClaims?: boolean;
  /**
   * Authentication context classes (step-up): advertised as `acr_values_supported`, and a sign-in
   * reaches the first of the request's `acr_values` this list has (else the list's first), as if the
   * user had passed that level's factor. A session below the `acr_values` asked is asked to sign in
   * again. default: none (no acr claim).
   */
  acrValues?: string[];
  /** With `acrValues`: ignore `acr_values` (every sign-in gets the list's first, no new prompt), like a provider that does not support them. */
  ignoreAcrValues?: boolean;
  /**
   * DPoP (RFC 9449; oidc-provider accepts proofs by default). `nonce: true`: the token and userinfo
   * endpoints ask for a server nonce (`use_dpop_nonce`) before they take a proof. `enabled: false`: a
   * server that knows nothing of DPoP (it ignores proofs and issues Bearer tokens). default on, no nonce
   */
  dpop?: { nonce?: boolean; enabled?: boolean };
  /** Pushed authorization requests (RFC 9126; served by default at /request). `required`: every client must push. */
  par?: { required?: boolean };
  /** The algorithm of the server's (RSA) signing key: ID tokens, JWT access tokens. default RS256 */
  signingAlg?: 'RS256' | 'PS256';
}

export interface DevProviderCounts {
  token: number;
  tokenByGrant: Record<string, number>;
  userinfo: number;
  revocation: number;
  authorization: number;
}

export interface DevProvider {
  /** e.g. http://127.0.0.1:54321 (no trailing slash) */
  issuer: string;
  users: DevUser[];
  provider: Provider;
  /** Counters at the server: incremented for each request that reaches the endpoint (OPTIONS excluded). */
  counts: DevProviderCounts;
  /** The parameters of each pushed authorization request, as the server read them (newest last). */
  pushed: Array<Record<string, unknown>>;
  resetCounts(): void;
  close(): Promise<void>;
}

const DEFAULT_ROUTES: Record<DevRouteName, string> = {
  authorization: '/auth',
  token: '/token',
  userinfo: '/me',
  revocation: '/token/revocation',
  end_session: '/session/end',
  jwks: '/jwks',
  introspection: '/token/introspection',
};

const FORM_LIMIT = 16 * 1024;

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > FORM_LIMIT) throw new Error('form body too large');
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;background:#f4f4f5;color:#18181b}
main{max-width:22rem;margin:0 auto;background:#fff;padding:1.5rem;border-radius:8px;box-shadow:0 1px 3px #0003}
h1{font-size:1.4rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #71717a;border-radius:4px}
button{margin-top:1rem;width:100%;padding:.6rem;font:inherit;border-radius:4px;border:1px solid #1d4ed8;cursor:pointer}
button[type=submit].primary{background:#1d4ed8;color:#fff}
button.secondary{background:#fff;color:#1d4ed8}
.error{color:#b91c1c;background:#fef2f2;border:1px solid #fca5a5;padding:.5rem;border-radius:4px}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

function loginPage(opts: { uid: string; clientName: string; login?: string; error?: string }): string {
  const { uid, clientName, login = '', error } = opts;
  const errorHtml = error
    ? `<p id="login-error" class="error" role="alert">${escapeHtml(error)}</p>`
    : '';
  const describedBy = error ? ' aria-describedby="login-error" aria-invalid="true"' : '';
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to ${escapeHtml(clientName)}</p>
${errorHtml}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="on">
<label for="login">Email</label>
<input id="login" name="login" type="text" inputmode="email" autocomplete="username" required value="${escapeHtml(login)}"${describedBy}${login ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${describedBy}${login ? ' autofocus' : ''}>
<button type="submit" class="primary">Sign in</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort">
<button type="submit" class="secondary">Cancel</button>
</form>`,
  );
}

function defaultUsers(): DevUser[] {
  return [
    {
      sub: 'demo-user-1',
      login: 'demo@latch.test',
      password: randomBytes(12).toString('base64url'),
      name: 'Dana Demo',
      email: 'demo@latch.test',
      email_verified: true,
    },
  ];
}

/**
 * Per-instance in-memory storage. oidc-provider's own MemoryAdapter is one LRU (1000 entries) shared by every
 * Provider in the process, which long test runs can overflow; this one is owned by one dev provider and
 * dropped with it.
 */
function createMemoryAdapterFactory(): (model: string) => Adapter {
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const uidIndex = new Map<string, string>(); // Session uid -> id
  const userCodeIndex = new Map<string, string>();
  const grantIndex = new Map<string, Set<string>>(); // grantId -> storage keys
  const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

  const get = (key: string): AdapterPayload | undefined => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  return (model: string): Adapter => {
    const keyFor = (id: string): string => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyFor(id);
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
        store.set(key, { payload, expiresAt });
        if (model === 'Session' && payload.uid) uidIndex.set(payload.uid, id);
        if (payload.userCode) userCodeIndex.set(payload.userCode, id);
        if (grantable.has(model) && payload.grantId) {
          let members = grantIndex.get(payload.grantId);
          if (!members) grantIndex.set(payload.grantId, (members = new Set()));
          members.add(key);
        }
      },
      async find(id) {
        return get(keyFor(id));
      },
      async findByUid(uid) {
        const id = uidIndex.get(uid);
        return id === undefined ? undefined : get(keyFor(id));
      },
      async findByUserCode(userCode) {
        const id = userCodeIndex.get(userCode);
        return id === undefined ? undefined : get(keyFor(id));
      },
      async consume(id) {
        const payload = get(keyFor(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        const key = keyFor(id);
        const payload = get(key);
        store.delete(key);
        if (payload?.uid && uidIndex.get(payload.uid) === id) uidIndex.delete(payload.uid);
        if (payload?.userCode && userCodeIndex.get(payload.userCode) === id) userCodeIndex.delete(payload.userCode);
        if (payload?.grantId) grantIndex.get(payload.grantId)?.delete(key);
      },
      async revokeByGrantId(grantId) {
        for (const key of grantIndex.get(grantId) ?? []) store.delete(key);
        grantIndex.delete(grantId);
      },
    };
  };
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * RFC 8693 token exchange on oidc-provider (DevProviderOptions.tokenExchange): a real grant handler on
 * the token endpoint. The subject token must be a live access token of this server issued to the
 * client asking; the new one is a JWT for the audience alone, for the same user and grant, with the
 * scopes asked for that the API has (all the API's scopes when none are asked for). A DPoP proof is
 * checked by oidc-provider's own validator (its grants' helper: no public API for a custom grant)
 * and binds the token to its key.
 */
function registerTokenExchange(provider: Provider, resourceServer: (indicator: string) => ResourceServer): void {
  type Proof = { thumbprint: string } | undefined;
  const dpopHelpers = import('oidc-provider/lib/helpers/validate_dpop.js' as string) as Promise<{
    default: (provider: Provider, ctx: unknown) => Promise<Proof>;
    checkDpopReplay: (provider: Provider, ctx: unknown, proof: Proof, clientId: string) => Promise<void>;
  }>;
  provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
    const { default: validateDpop, checkDpopReplay } = await dpopHelpers;
    const proof = await validateDpop(provider, ctx);
    if (ctx.oidc.client.metadata()['dpop_bound_access_tokens'] && !proof) throw new errors.InvalidGrant('DPoP proof JWT not provided');
    await checkDpopReplay(provider, ctx, proof, ctx.oidc.client.clientId);
    const params = ctx.oidc.params as Record<string, unknown>;
    if (params['subject_token_type'] !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('subject_token_type must be an access token');
    if (params['requested_token_type'] !== undefined && params['requested_token_type'] !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest('only access tokens are issued');
    }
    const subject = await provider.AccessToken.find(String(params['subject_token'] ?? ''));
    if (!subject || subject.isExpired) throw new errors.InvalidGrant('subject token is invalid or expired');
    if (subject.clientId !== ctx.oidc.client.clientId) throw new errors.InvalidGrant('subject token was issued to another client');
    const audience = String(params['audience'] ?? params['resource'] ?? '');
    const info = resourceServer(audience);
    const offered = new Set((info.scope ?? '').split(' ').filter(Boolean));
    const asked = String(params['scope'] ?? '').split(' ').filter((s) => offered.has(s));
    const at = new provider.AccessToken({
      accountId: subject.accountId,
      client: ctx.oidc.client,
      grantId: subject.grantId,
      gty: 'token-exchange',
      scope: (asked.length ? asked : [...offered]).join(' '),
    });
    at.resourceServer = new provider.ResourceServer(audience, info);
    if (proof) at.setThumbprint('jkt', proof.thumbprint);
    const value = await at.save();
    ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: proof ? 'DPoP' : 'Bearer', expires_in: at.expiration, scope: at.scope };
  }, ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope']);
}

function toClientMetadata(c: DevClient, alg: 'RS256' | 'PS256'): ClientMetadata {
  const grantTypes = c.grant_types ?? ['authorization_code', 'refresh_token'];
  const metadata: ClientMetadata = {
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
    id_token_signed_response_alg: alg,
  };
  if (c.client_name) metadata.client_name = c.client_name;
  if (c.post_logout_redirect_uris) metadata.post_logout_redirect_uris = c.post_logout_redirect_uris;
  if (c.dpop_bound_access_tokens) metadata.dpop_bound_access_tokens = true;
  if (c.jwks_uri) metadata.jwks_uri = c.jwks_uri;
  if (c.backchannel_logout_uri) {
    metadata.backchannel_logout_uri = c.backchannel_logout_uri;
    metadata.backchannel_logout_session_required = true;
  }
  return metadata;
}

export async function startDevProvider(options: DevProviderOptions): Promise<DevProvider> {
  const host = options.host ?? '127.0.0.1';
  const users = options.users ?? defaultUsers();

  // Bind first: the issuer must carry the real port.
  const server = createServer();
  const issuer = await bind(server, options.port ?? 0, host);

  try {
    return await build(server, issuer, options, users);
  } catch (err) {
    server.close();
    throw err;
  }
}

async function build(
  server: Server,
  issuer: string,
  options: DevProviderOptions,
  users: DevUser[],
): Promise<DevProvider> {
  const accessTokenTtl = options.accessTokenTtl ?? 3600;
  const idTokenTtl = options.idTokenTtl ?? 3600;
  const rotate = options.rotateRefreshTokens ?? true;
  const issParameter = options.issParameter ?? true;
  const routes: Record<DevRouteName, string> = { ...DEFAULT_ROUTES, ...options.routes };
  const jwtAt = options.jwtAccessTokens;
  const signingAlg = options.signingAlg ?? 'RS256';

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = `dev-${randomUUID()}`;
  jwk.alg = signingAlg;
  jwk.use = 'sig';

  const extraClaimNames = [...new Set(users.flatMap((u) => Object.keys(u.extra ?? {})))];
  const bySub = new Map(users.map((u) => [u.sub, u]));

  const apis = [...(jwtAt ? [jwtAt] : []), ...(options.resources ?? [])];
  const resourceServer = (indicator: string): ResourceServer => {
    const api = apis.find((a) => a.resource === indicator);
    if (!api) {
      throw new errors.InvalidTarget('unknown resource indicator');
    }
    return {
      scope: api.scopes.join(' '),
      audience: api.resource,
      accessTokenTTL: accessTokenTtl,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: signingAlg } },
    };
  };

  const configuration: Configuration = {
    adapter: createMemoryAdapterFactory(),
    clients: options.clients.map((c) => toClientMetadata(options.tokenExchange ? { ...c, grant_types: [...(c.grant_types ?? ['authorization_code', 'refresh_token']), TOKEN_EXCHANGE] } : c, signingAlg)),
    jwks: { keys: [jwk as never] },
    cookies: {
      keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')],
    },
    routes,
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'picture', ...extraClaimNames],
      email: ['email', 'email_verified'],
    },
    // Most hosted providers put the profile/email claims in the ID token; oidc-provider's default (true)
    // would only release them from userinfo when an access token is issued too.
    conformIdTokenClaims: !(options.idTokenClaims ?? true),
    responseTypes: ['code'],
    // Routing parameters some hosted providers take (Auth0's organization and connection): recognised, so
    // that a test can see them arrive (in `pushed`), and otherwise ignored.
    extraParams: ['organization_id', 'connection_id'],
    // oidc-provider requires PKCE only for public clients by default; we require it for everyone.
    pkce: { required: () => true },
    async findAccount(_ctx, sub): Promise<Account | undefined> {
      const user = bySub.get(sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        async claims() {
          return {
            ...user.extra,
            sub: user.sub,
            name: user.name,
            email: user.email,
            email_verified: user.email_verified,
            ...(user.picture !== undefined ? { picture: user.picture } : {}),
          };
        },
      };
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      ...(options.acrValues && !options.ignoreAcrValues ? { policy: stepUpPolicy(options.acrValues) } : {}),
    },
    ...(options.acrValues ? { acrValues: options.acrValues } : {}),
    // Consent is automatic here (no screen), and so is it for prompt=none, which may show none: as a
    // hosted provider that remembers consent does. oidc-provider keeps a client's grant in the user's
    // session, and an RP-initiated logout where the user chooses "Stay signed in" drops it: without
    // this, the client's next silent sign-in would be consent_required though the user never saw a
    // consent screen. (Resource-server scopes, jwtAccessTokens, are left to the interaction.)
    async loadExistingGrant(ctx) {
      const clientId = ctx.oidc.client!.clientId;
      const grantId = ctx.oidc.result?.['consent']?.grantId || ctx.oidc.session!.grantIdFor(clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId || !String(ctx.oidc.params?.['prompt'] ?? '').split(' ').includes('none')) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
      grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
      if (ctx.oidc.requestParamClaims.size > 0) grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    // A refresh token whenever the granted scope has offline_access and the client may use the grant
    // (clients get the refresh_token grant by default). See middleware 2 below for how offline_access
    // survives the authorization request.
    issueRefreshToken: (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: () => rotate,
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      IdToken: idTokenTtl,
      AuthorizationCode: 60,
      RefreshToken: 14 * 24 * 60 * 60,
      Interaction: 60 * 60,
      Session: 14 * 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
    },
    clientBasedCORS: () => false,
    // oidc-provider's outgoing fetch (back-channel logout) uses an SSRF-protected dispatcher that refuses
    // loopback addresses; everything here is on 127.0.0.1, so drop it.
    fetch: (input, init) => {
      const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(input, rest);
    },
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        // A client may revoke only its own tokens (oidc-provider's default, minus its console notice).
        allowedPolicy: (_ctx, client, token) => {
          if (token.clientId !== client.clientId) {
            throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          }
          return true;
        },
      },
      userinfo: { enabled: true },
      // Every client here is confidential and may introspect any token (e.g. a resource server's client).
      introspection: { enabled: true, allowedPolicy: () => true },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: options.backchannelLogout ?? false },
      ...(options.dpop?.enabled === false ? { dPoP: { enabled: false } } : {}),
      ...(options.par?.required ? { pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true } } : {}),
      ...(options.dpop?.nonce ? { dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } } : {}),
      rpInitiatedLogout: {
        enabled: true,
        // The application asking (from id_token_hint or client_id), by its name: the user knows no client ids.
        async logoutSource(ctx, form) {
          const name = ctx.oidc.client?.clientName;
          ctx.type = 'html';
          ctx.body = page(
            'Sign out',
            `<h1>Sign out</h1>
${name ? `<p>You are signing out of ${escapeHtml(name)}.</p>` : ''}
<p>Do you want to sign out of the Latch development provider${name ? ' too' : ''}?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
          );
        },
        async postLogoutSuccessSource(ctx) {
          const name = ctx.oidc.client?.clientName;
          ctx.type = 'html';
          ctx.body = page('Signed out', `<h1>Signed out</h1><p>You have been signed out${name ? ` of ${escapeHtml(name)}` : ''}.</p>`);
        },
      },
      ...(apis.length
        ? {
            resourceIndicators: {
              enabled: true,
              // Several granted (a sign-in that asked for each API): the main token is jwtAccessTokens', else opaque.
              defaultResource: (_ctx: KoaContextWithOIDC, _client: unknown, oneOf?: readonly string[]) =>
                oneOf && oneOf.length > 1 ? (jwtAt && oneOf.includes(jwtAt.resource) ? jwtAt.resource : undefined) : (oneOf ?? jwtAt?.resource),
              useGrantedResource: () => true,
              getResourceServerInfo: (_ctx: KoaContextWithOIDC, indicator: string) => resourceServer(indicator),
            },
          }
        : {}),
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page(
        'Error',
        `<h1>Something went wrong</h1>${Object.entries(out)
          .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(String(v))}</p>`)
          .join('')}`,
      );
    },
  };

  const provider = new Provider(issuer, configuration);
  if (options.tokenExchange) registerTokenExchange(provider, resourceServer);
  // oidc-provider validates static clients lazily; fail at start instead of at the first request.
  for (const c of options.clients) {
    try {
      await provider.Client.find(c.client_id);
    } catch (cause) {
      const e = cause as { error_description?: string; message?: string };
      throw new Error(`dev provider: client "${c.client_id}" is invalid: ${e.error_description ?? e.message}`, { cause });
    }
  }

  const counts: DevProviderCounts = {
    token: 0,
    tokenByGrant: {},
    userinfo: 0,
    revocation: 0,
    authorization: 0,
  };
  const pushed: Array<Record<string, unknown>> = [];
  const resetCounts = (): void => {
    counts.token = 0;
    counts.tokenByGrant = {};
    counts.userinfo = 0;
    counts.revocation = 0;
    counts.authorization = 0;
  };

  // 1. Counters: every request reaching a counted endpoint, failing ones included.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'OPTIONS') return next();
    const path = ctx.path;
    if (path === routes.token) {
      counts.token += 1;
      try {
        await next();
      } finally {
        // oidc-provider parses the body itself; read grant_type from what it parsed.
        const oidc = (ctx as unknown as KoaContextWithOIDC).oidc as
          | { body?: Record<string, unknown>; params?: Record<string, unknown> }
          | undefined;
        const grant = oidc?.body?.['grant_type'] ?? oidc?.params?.['grant_type'];
        const key = typeof grant === 'string' && grant ? grant : 'unknown';
        counts.tokenByGrant[key] = (counts.tokenByGrant[key] ?? 0) + 1;
      }
      return;
    }
    if (path === '/request' && ctx.method === 'POST') {
      await next();
      const params = ((ctx as unknown as KoaContextWithOIDC).oidc as { params?: Record<string, unknown> } | undefined)?.params;
      if (params) pushed.push(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)));
      return;
    }
    if (path === routes.userinfo) counts.userinfo += 1;
    else if (path === routes.revocation) counts.revocation += 1;
    else if (path === routes.authorization) counts.authorization += 1;
    return next();
  });

  // 2. offline_access: oidc-provider keeps it only when the authorization request's prompt includes
  //    `consent` (actions/authorization/scopes.js, whether or not prompt was sent). A request that asks for
  //    offline_access without a prompt (or with prompt=login) gets `consent` added here, which our
  //    interactions grant automatically, so the refresh token is issued as a hosted provider would.
  //    prompt=none is left alone: offline_access is dropped and no refresh token is issued.
  provider.use(async (ctx, next) => {
    if (ctx.path === routes.authorization && ctx.method === 'GET') {
      const query = new URLSearchParams(ctx.querystring);
      const scopes = (query.get('scope') ?? '').split(' ');
      const prompts = (query.get('prompt') ?? '').split(' ').filter(Boolean);
      if (scopes.includes('offline_access') && !prompts.includes('consent') && !prompts.includes('none')) {
        query.set('prompt', [...prompts, 'consent'].join(' '));
        ctx.querystring = query.toString();
      }
    }
    return next();
  });

  // 3. RFC 9207 opt-out: strip iss from redirects to clients and from discovery.
  if (!issParameter) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/.well-known/openid-configuration' && ctx.body && typeof ctx.body === 'object') {
        delete (ctx.body as Record<string, unknown>)['authorization_response_iss_parameter_supported'];
        return;
      }
      const location = ctx.response.get('location');
      if (ctx.status >= 300 && ctx.status < 400 && location) {
        const target = URL.parse(location, issuer);
        if (target && target.origin !== new URL(issuer).origin && target.searchParams.has('iss')) {
          target.searchParams.delete('iss');
          ctx.response.set('location', target.href);
        }
      }
    });
  }

  // 4. Interactions: login form, cancel, automatic consent.
  provider.use(interactionMiddleware(provider, users, options.acrValues && ((asked) => grantedAcr(options.acrValues!, options.ignoreAcrValues ? undefined : asked))));

  server.on('request', provider.callback());

  const close = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  return { issuer, users, provider, counts, pushed, resetCounts, close };
}

/** The acr a sign-in reaches: the first asked-for value `supported` has, else `supported`'s first. */
function grantedAcr(supported: string[], asked: string | undefined): string {
  return (asked ?? '').split(' ').find((value) => supported.includes(value)) ?? supported[0]!;
}

/** oidc-provider's policy, plus: a session whose acr is none of the request's acr_values signs in again. */
function stepUpPolicy(supported: string[]) {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(new interactionPolicy.Check('acr_values', 'a stronger sign-in is asked for', (ctx) => {
    const asked = ctx.oidc.params?.['acr_values'];
    if (typeof asked !== 'string' || !ctx.oidc.session?.accountId || ctx.oidc.result?.['login']) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const wanted = asked.split(' ').filter((value) => supported.includes(value));
    return wanted.length > 0 && !wanted.includes(String(ctx.oidc.acr)) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}

function interactionMiddleware(provider: Provider, users: DevUser[], acrFor?: (asked: string | undefined) => string): Koa.Middleware {
  const pattern = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/;

  return async (ctx, next) => {
    const match = pattern.exec(ctx.path);
    if (!match) return next();
    const action = match[2];
    ctx.set('cache-control', 'no-store');
    ctx.set('x-frame-options', 'DENY');

    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== match[1]) throw new errors.SessionNotFound('interaction mismatch');
      const client = await provider.Client.find(String(details.params['client_id']));
      const clientName = client?.clientName ?? client?.clientId ?? 'the application';

      if (ctx.method === 'GET' && !action) {
        if (details.prompt.name === 'login') {
          ctx.type = 'html';
          ctx.body = loginPage({ uid: details.uid, clientName });
          return;
        }
        if (details.prompt.name === 'consent') {
          // Automatic consent: grant everything requested (scopes incl. offline_access, claims, resources).
          const accountId = details.session?.accountId;
          if (!accountId) throw new errors.SessionNotFound('no session for consent');
          const grant = details.grantId
            ? await provider.Grant.find(details.grantId)
            : new provider.Grant({ accountId, clientId: String(details.params['client_id']) });
          if (!grant) throw new errors.SessionNotFound('grant not found');
          const d = details.prompt.details as {
            missingOIDCScope?: string[];
            missingOIDCClaims?: string[];
            missingResourceScopes?: Record<string, string[]>;
          };
          if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
          if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
          for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
            grant.addResourceScope(indicator, scopes.join(' '));
          }
          const grantId = await grant.save();
          const consent = details.grantId ? {} : { grantId };
          await finish(ctx, provider, { consent });
          return;
        }
        throw new Error(`unsupported prompt ${details.prompt.name}`);
      }

      if (ctx.method === 'POST' && action === 'login') {
        if (details.prompt.name !== 'login') throw new errors.InvalidRequest('not a login prompt');
        const form = await readForm(ctx.req);
        const login = form.get('login') ?? '';
        const password = form.get('password') ?? '';
        const user = users.find((u) => u.login.toLowerCase() === login.trim().toLowerCase());
        if (!user || !password || user.password !== password) {
          ctx.status = 401;
          ctx.type = 'html';
          ctx.body = loginPage({
            uid: details.uid,
            clientName,
            login,
            error: 'The email or password is incorrect.',
          });
          return;
        }
        const asked = details.params['acr_values'];
        await finish(ctx, provider, { login: { accountId: user.sub, ...(acrFor ? { acr: acrFor(typeof asked === 'string' ? asked : undefined) } : {}) } });
        return;
      }

      if (ctx.method === 'POST' && action === 'abort') {
        await finish(
          ctx,
          provider,
          { error: 'access_denied', error_description: 'End-User aborted interaction' },
          false,
        );
        return;
      }

      ctx.status = 405;
      ctx.body = 'Method Not Allowed';
    } catch (err) {
      const e = err as { status?: number; error?: string; error_description?: string; message?: string };
      ctx.status = typeof e.status === 'number' && e.status >= 400 ? e.status : 500;
      ctx.type = 'html';
      ctx.body = page(
        'Error',
        `<h1>Sign-in could not continue</h1><p role="alert">${escapeHtml(
          e.error_description ?? e.message ?? 'unknown error',
        )}</p><p>Start again from the application.</p>`,
      );
    }
  };
}

async function finish(
  ctx: Koa.Context,
  provider: Provider,
  result: Record<string, unknown>,
  mergeWithLastSubmission = true,
): Promise<void> {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
  ctx.status = 303;
  ctx.redirect(returnTo);
  ctx.status = 303;
}

import type { AuthorizationServer, Client, ClientAuth } from 'oauth4webapi';
import type { LatchUser } from '../contract.ts';
import { LatchError } from '../errors.ts';
import type { DpopKey } from '../oauth/dpop.ts';
import type { OutboundOptions } from '../oauth/outbound.ts';

/** One sign-in attempt, sealed into its own short-lived cookie between /login and /callback. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Where the browser goes afterwards: always on an allowed origin. */
  returnTo: string;
  /** `silent`: `/login?mode=silent` in a hidden iframe (prompt=none); the callback's page messages the parent. */
  mode: 'redirect' | 'popup' | 'silent';
  /** Epoch ms. */
  createdAt: number;
  /** The site's redirect URI, when it is not the configured one (LATCH_SITES): the callback's token request repeats it. */
  redirectUri?: string;
  /** `/login?proof=1`: the callback hands the page a sign-in proof for its next `/me` (detecting blocked cookies). */
  proof?: true;
  /** `/login?handoff=<S256 challenge>`: the callback issues a hand-off code instead of a session cookie. */
  handoff?: string;
  /** `/login?provider=`: the provider (and tenant) this sign-in is fixed to; absent for `default`. Only it may answer. */
  provider?: string;
  tenant?: string;
  /** `/login?acr_values=`: the `acr` values asked for; the ID token must carry one of them. */
  acr?: string[];
  /** `/login?max_age=`: seconds; the ID token's `auth_time` must be at most this old. */
  maxAge?: number;
}

export interface TokenSet {
  accessToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  /** The access token's lifetime as issued (`expires_in`), seconds: the refresh margin is at most half of it. */
  lifetime?: number;
  refreshToken?: string;
  idToken?: string;
  scope?: string;
}

export interface SignInResult {
  tokens: TokenSet;
  user: LatchUser;
  /** The session id at the authorization server (`sid` claim), for back-channel logout. */
  sid?: string;
  /**
   * Userinfo gave no answer to read (refused, failed, timed out), so the verified ID token's claims
   * stand alone (docs/providers.md, "Userinfo"). For the log: the sign-in went on.
   */
  userinfoUnavailable?: LatchError;
  /** The ID token's `acr` and `auth_time` (epoch seconds), when it has them (step-up, /me). */
  acr?: string;
  authTime?: number;
  /** The provider (LATCH_PROVIDERS) that completed it: set by the route, recorded in the session. */
  provider?: { name: string; tenant?: string | undefined };
  /** LATCH_DPOP=true: the key the tokens are bound to (bff/oauth/dpop.ts), kept in the session. */
  dpopKey?: DpopKey;
}

export interface RefreshResult {
  tokens: TokenSet;
  /** Claims from a new ID token, when the server sent one. */
  user?: LatchUser;
}

/**
 * A refresh the token endpoint granted, whose ID token could not be checked because the server's keys
 * could not be fetched (`cause`, a 5xx LatchError, whose code and status this error takes). The new
 * tokens came straight from the token endpoint over TLS, and a rotated refresh token is spent
 * already: the session keeps `tokens`, without the unverified ID token or its claims, and the request
 * answers the 5xx. Never LATCH_SESSION_EXPIRED: the user did nothing wrong.
 */
export class RefreshKeptTokens extends LatchError {
  readonly tokens: TokenSet;
  constructor(cause: LatchError, tokens: TokenSet) {
    super(cause.code, { cause, detail: cause.detail });
    this.tokens = tokens;
  }
}

/**
 * What the routes need from an authorization server. Standard OpenID
 * Connect is one implementation; plain OAuth 2.0 and SCAYLE are others.
 * Implementations throw LatchError with stable codes, never raw errors.
 */
export interface Provider {
  readonly kind: string;
  /**
   * Resolves when the server's metadata and keys are loaded and usable; rejects while they cannot be.
   * Called on every readiness probe: once loaded it must not reach the server again unless something
   * needs reloading (a probe must neither hammer the server nor reset a refetch floor).
   */
  ready(): Promise<void>;
  /** The URL to send the browser to. `params` are already allowlisted by the route. */
  authorizationUrl(tx: LoginTransaction, params: Record<string, string>): Promise<URL>;
  /**
   * Checks the callback against the transaction (state, iss, error), exchanges
   * the code, verifies the ID token and fetches userinfo.
   */
  handleCallback(callback: URL, tx: LoginTransaction): Promise<SignInResult>;
  /**
   * `dpopKey`: the session's DPoP key, when it has one (bff/oauth/dpop.ts). `resource`: RFC 8707, a
   * token for that API alone (oauth/audience.ts); servers without resource indicators ignore it.
   */
  refresh(refreshToken: string, expectedSub: string, dpopKey?: DpopKey, resource?: string): Promise<RefreshResult>;
  /** RFC 8693 token exchange of the user's access token for one of `audience`'s own (oauth/audience.ts). Absent: not supported. */
  exchange?(subjectToken: string, audience: string, dpopKey?: DpopKey): Promise<TokenSet>;
  userinfo(accessToken: string, expectedSub: string): Promise<LatchUser>;
  /** The URL that ends the session at the server, or null when it has none. */
  logoutUrl(tokens: Pick<TokenSet, 'idToken' | 'accessToken'>, postLogoutRedirectUri: string): Promise<string | null>;
  /** Revokes what can be revoked. Never throws: logout must go on. */
  revoke(tokens: Pick<TokenSet, 'accessToken' | 'refreshToken'>): Promise<void>;
  /**
   * The transaction state a callback claims, for servers that do not echo `state` verbatim
   * (SCAYLE returns it inside a base64-JSON payload). Null: the callback claims none.
   * Without this method the route reads the `state` parameter itself.
   */
  callbackState?(callback: URL): string | null;
  /**
   * The token endpoint and the service client's credentials (LATCH_SERVICE_CLIENT_ID, default the main
   * client), for the BFF's own client-credentials grants (bff/oauth/service-token.ts). Absent on
   * servers without a standard token endpoint.
   */
  tokenEndpoint?(): Promise<TokenEndpointAccess>;
  /**
   * Back-channel logout (OIDC Back-Channel Logout 1.0): verifies a logout token's signature against the
   * server's keys, and iss, aud, iat and exp. The route (routes/backchannel.ts) checks the rest: events,
   * nonce, sub/sid, typ and jti. Absent: POST /backchannel-logout answers 404.
   */
  verifyLogoutToken?(token: string): Promise<VerifiedLogoutToken>;
}

/** A logout token whose signature, iss, aud, iat and exp have been verified. */
export interface VerifiedLogoutToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** What a grant of the BFF's own needs (oauth4webapi's shapes). */
export interface TokenEndpointAccess {
  as: AuthorizationServer;
  client: Client;
  clientAuth: ClientAuth;
  outbound: OutboundOptions;
}

/** Claims never copied into the session's user object (large, or meaningless to a page). */
// `_claim_names`/`_claim_sources` (OIDC Core 5.6.2): aggregated and distributed claims are not
// resolved, and a distributed source may carry an access token, which must never reach a page.
const DROPPED_CLAIMS = new Set(['aud', 'iss', 'iat', 'exp', 'nbf', 'nonce', 'at_hash', 'c_hash', 'auth_time', 'azp', 'jti', 'sid', 'acr', 'amr', 's_hash', 'updated_at', '_claim_names', '_claim_sources']);

/** Keeps the claims a page may see, and keeps them small. */
export function pickUserClaims(claims: Record<string, unknown>): LatchUser {
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(claims)) {
    if (DROPPED_CLAIMS.has(key) || value === undefined || value === null) continue;
    user[key] = value;
  }
  return user as LatchUser;
}

/**
 * An emulator of SCAYLE's Authentication API, written from SCAYLE's integration document (the
 * source documents' 003), started in-process on loopback by tests. Dev/test only: nothing in bff/
 * may import dev/.
 *
 * What it checks, and rejects otherwise with a JSON `{ error, message }`:
 *   GET  /v1/auth/external/redirect?shopId&jwt
 *        a known shopId; the JWT is HS256 and verifies with that shop's secret, has not expired,
 *        lives 15 minutes at most, and carries callbackUrl (absolute http(s)), idpKey (a configured
 *        one) and clientId (a configured client). Then it plays the identity provider: the sign-in
 *        succeeds as `users[0]` (or whatever `nextSignIn()` said) and the browser goes to
 *        callbackUrl + `code` + `state`, the state being base64(JSON(the JWT's payload)).
 *   POST /v1/oauth/token
 *        Content-Type application/json only (a form body is refused); HTTP Basic client
 *        authentication, base64("client_id:client_secret"); a JSON object with exactly
 *        {grant_type: 'authorization_code', code} or {grant_type: 'refresh_token', refresh_token}.
 *        Codes are single use (a replay also revokes what the code gave) and live 60 s; refresh
 *        tokens rotate unless `rotateRefreshTokens: false`.
 *        Answers {access_token, refresh_token, token_type: 'Bearer', expires_in}; the access token is
 *        a JWT (HS256, the emulator's own key) with jti, sub, iat, exp, iss, client_id and the
 *        user's email and names.
 *   GET  /v1/auth/logout/redirect?shopId&jwt
 *        the JWT as above, carrying callbackUrl and tokenId (an access token's jti). It revokes
 *        that access token and its refresh token, then redirects to callbackUrl.
 *
 * Where the document is silent, the emulator chooses: there is no userinfo endpoint (the BFF reads
 * the user from the access token's claims), and an identity-provider failure set with
 * `nextSignIn({ error })` reaches callbackUrl as `error` + `state` without a code.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { bind } from './listen.ts';

export interface ScayleShop {
  shopId: string;
  shopSecret: string;
}

export interface ScayleClient {
  clientId: string;
  clientSecret: string;
}

export interface ScayleUser {
  sub: string;
  email: string;
  firstName: string;
  lastName: string;
}

export interface ScayleEmulatorOptions {
  /** default '127.0.0.1' */
  host?: string;
  /** default 0 (a free port) */
  port?: number;
  shops: ScayleShop[];
  clients: ScayleClient[];
  /** The identity providers configured at the tenant. */
  idpKeys: string[];
  /** default: one demo user */
  users?: ScayleUser[];
  /** seconds, default 300 */
  accessTokenTtl?: number;
  /** default true */
  rotateRefreshTokens?: boolean;
}

export interface ScayleEmulatorCounts {
  redirect: number;
  token: number;
  tokenByGrant: Record<string, number>;
  logout: number;
}

export interface ScayleEmulator {
  /** e.g. http://127.0.0.1:54321 (no trailing slash) */
  baseUrl: string;
  users: ScayleUser[];
  /** Counters: each request reaching an endpoint, refused ones included. */
  counts: ScayleEmulatorCounts;
  resetCounts(): void;
  /** The outcome of the next identity-provider sign-in (default: `users[0]` signs in). */
  nextSignIn(outcome: ScayleUser | { error: string }): void;
  /** Whether the access token with this jti is still valid (issued, not expired, not revoked). */
  isActive(jti: string): boolean;
  close(): Promise<void>;
}

const REDIRECT_JWT_MAX_LIFETIME_S = 15 * 60;
const CODE_TTL_MS = 60_000;
const BODY_LIMIT = 16 * 1024;

interface CodeEntry {
  clientId: string;
  user: ScayleUser;
  expiresAt: number;
  used: boolean;
  /** jtis and refresh tokens it gave, revoked on a replay. */
  issued: { jti?: string; refreshToken?: string };
}

interface RefreshEntry {
  clientId: string;
  user: ScayleUser;
  /** The access token issued with it (revoked together at logout). */
  jti: string;
  active: boolean;
}

/** A failure the emulator answers as JSON. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function defaultUsers(): ScayleUser[] {
  return [{ sub: '1001', email: 'shopper@latch.test', firstName: 'Sam', lastName: 'Shopper' }];
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new Refusal(413, 'invalid_request', 'body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startScayleEmulator(options: ScayleEmulatorOptions): Promise<ScayleEmulator> {
  const host = options.host ?? '127.0.0.1';
  const users = options.users ?? defaultUsers();
  const accessTokenTtl = options.accessTokenTtl ?? 300;
  const rotate = options.rotateRefreshTokens ?? true;
  const shops = new Map(options.shops.map((s) => [s.shopId, s]));
  const clients = new Map(options.clients.map((c) => [c.clientId, c]));
  const idpKeys = new Set(options.idpKeys);
  const accessTokenKey = randomBytes(32);

  const codes = new Map<string, CodeEntry>();
  const refreshTokens = new Map<string, RefreshEntry>();
  /** jti -> expiry (epoch s) of access tokens not revoked. */
  const accessTokens = new Map<string, number>();
  let next: ScayleUser | { error: string } | undefined;

  const counts: ScayleEmulatorCounts = { redirect: 0, token: 0, tokenByGrant: {}, logout: 0 };
  const resetCounts = () => {
    counts.redirect = 0;
    counts.token = 0;
    counts.tokenByGrant = {};
    counts.logout = 0;
  };

  const server = createServer();
  const baseUrl = await bind(server, options.port ?? 0, host);

  /** Verifies a redirect JWT for the shop in the query; answers its payload. */
  async function verifyRedirectJwt(query: URLSearchParams, required: string[]): Promise<JWTPayload> {
    const shopIds = query.getAll('shopId');
    const jwts = query.getAll('jwt');
    if (shopIds.length !== 1 || jwts.length !== 1) throw new Refusal(400, 'invalid_request', 'exactly one shopId and one jwt are required');
    const shop = shops.get(shopIds[0]!);
    if (!shop) throw new Refusal(400, 'unknown_shop', 'unknown shopId');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwts[0]!, new TextEncoder().encode(shop.shopSecret), {
        algorithms: ['HS256'],
        requiredClaims: ['iat', 'exp', ...required],
        maxTokenAge: `${REDIRECT_JWT_MAX_LIFETIME_S + 60}s`,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new Refusal(401, 'jwt_expired', 'the JWT has expired');
      throw new Refusal(401, 'invalid_jwt', 'the JWT does not verify with the shop secret');
    }
    if (payload.exp! - payload.iat! > REDIRECT_JWT_MAX_LIFETIME_S) {
      throw new Refusal(400, 'invalid_jwt', 'the JWT may live 15 minutes at most');
    }
    const callbackUrl = payload['callbackUrl'];
    const parsed = typeof callbackUrl === 'string' ? URL.parse(callbackUrl) : null;
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      throw new Refusal(400, 'invalid_request', 'callbackUrl must be an absolute http(s) URL');
    }
    return payload;
  }

  async function issueTokens(clientId: string, user: ScayleUser): Promise<{ body: Record<string, unknown>; jti: string; refreshToken: string }> {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({
      client_id: clientId,
      email: user.email,
      first_name: user.firstName,
      last_name: user.lastName,
      name: `${user.firstName} ${user.lastName}`,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.sub)
      .setJti(jti)
      .setIssuer(baseUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + accessTokenTtl)
      .sign(accessTokenKey);
    accessTokens.set(jti, now + accessTokenTtl);
    const refreshToken = randomBytes(32).toString('base64url');
    refreshTokens.set(refreshToken, { clientId, user, jti, active: true });
    return {
      body: { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: accessTokenTtl },
      jti,
      refreshToken,
    };
  }

  function authenticateClient(req: IncomingMessage): ScayleClient {
    const challenge = { 'www-authenticate': 'Basic realm="scayle"' };
    const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(req.headers.authorization ?? '');
    if (!match) throw new Refusal(401, 'invalid_client', 'HTTP Basic client authentication is required', challenge);
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const client = colon > 0 ? clients.get(decoded.slice(0, colon)) : undefined;
    if (!client || !sameSecret(decoded.slice(colon + 1), client.clientSecret)) {
      throw new Refusal(401, 'invalid_client', 'client authentication failed', challenge);
    }
    return client;
  }

  function exactKeys(body: Record<string, unknown>, keys: string[]) {
    const extra = Object.keys(body).filter((k) => !keys.includes(k));
    const missing = keys.filter((k) => typeof body[k] !== 'string' || body[k] === '');
    if (extra.length || missing.length) {
      throw new Refusal(400, 'invalid_request', `expected exactly ${keys.join(', ')} as strings`);
    }
  }

  async function token(req: IncomingMessage, res: ServerResponse) {
    counts.token += 1;
    let grant = 'unknown';
    try {
      if (req.method !== 'POST') throw new Refusal(405, 'invalid_request', 'POST only', { allow: 'POST' });
      const client = authenticateClient(req);
      if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
        throw new Refusal(415, 'invalid_request', 'the body must be application/json');
      }
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch (err) {
        if (err instanceof Refusal) throw err;
        throw new Refusal(400, 'invalid_request', 'the body is not JSON');
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Refusal(400, 'invalid_request', 'the body must be a JSON object');
      const fields = body as Record<string, unknown>;
      grant = typeof fields['grant_type'] === 'string' ? fields['grant_type'] : 'unknown';

      if (grant === 'authorization_code') {
        exactKeys(fields, ['grant_type', 'code']);
        const entry = codes.get(fields['code'] as string);
        if (!entry || entry.clientId !== client.clientId) throw new Refusal(400, 'invalid_grant', 'unknown code');
        if (entry.used) {
          // A replayed code: revoke what it gave (RFC 6749 4.1.2).
          if (entry.issued.jti) accessTokens.delete(entry.issued.jti);
          if (entry.issued.refreshToken) refreshTokens.delete(entry.issued.refreshToken);
          throw new Refusal(400, 'invalid_grant', 'the code was used already');
        }
        entry.used = true;
        if (entry.expiresAt <= Date.now()) throw new Refusal(400, 'invalid_grant', 'the code has expired');
        const issued = await issueTokens(client.clientId, entry.user);
        entry.issued = { jti: issued.jti, refreshToken: issued.refreshToken };
        sendJson(res, 200, issued.body);
        return;
      }
      if (grant === 'refresh_token') {
        exactKeys(fields, ['grant_type', 'refresh_token']);
        const presented = fields['refresh_token'] as string;
        const entry = refreshTokens.get(presented);
        if (!entry || !entry.active || entry.clientId !== client.clientId) throw new Refusal(400, 'invalid_grant', 'unknown or revoked refresh token');
        const issued = await issueTokens(client.clientId, entry.user);
        if (rotate) {
          entry.active = false;
          sendJson(res, 200, issued.body);
        } else {
          // Not rotating: the presented token stays, now paired with the new access token.
          refreshTokens.delete(issued.refreshToken);
          entry.jti = issued.jti;
          const { refresh_token: _new, ...rest } = issued.body;
          sendJson(res, 200, rest);
        }
        return;
      }
      throw new Refusal(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
    } finally {
      counts.tokenByGrant[grant] = (counts.tokenByGrant[grant] ?? 0) + 1;
    }
  }

  async function loginRedirect(query: URLSearchParams, res: ServerResponse) {
    counts.redirect += 1;
    const payload = await verifyRedirectJwt(query, ['callbackUrl', 'idpKey', 'clientId']);
    if (typeof payload['idpKey'] !== 'string' || !idpKeys.has(payload['idpKey'])) throw new Refusal(400, 'unknown_idp', 'unknown idpKey');
    if (typeof payload['clientId'] !== 'string' || !clients.has(payload['clientId'])) throw new Refusal(400, 'unknown_client', 'unknown clientId');
    // The identity provider's sign-in, simulated.
    const outcome = next ?? users[0]!;
    next = undefined;
    const target = new URL(payload['callbackUrl'] as string);
    target.searchParams.set('state', Buffer.from(JSON.stringify(payload)).toString('base64'));
    if ('error' in outcome) {
      target.searchParams.set('error', outcome.error);
    } else {
      const code = randomBytes(24).toString('base64url');
      codes.set(code, { clientId: payload['clientId'], user: outcome, expiresAt: Date.now() + CODE_TTL_MS, used: false, issued: {} });
      target.searchParams.set('code', code);
    }
    res.writeHead(302, { location: target.href, 'cache-control': 'no-store' });
    res.end();
  }

  async function logoutRedirect(query: URLSearchParams, res: ServerResponse) {
    counts.logout += 1;
    const payload = await verifyRedirectJwt(query, ['callbackUrl', 'tokenId']);
    const tokenId = payload['tokenId'];
    if (typeof tokenId !== 'string' || tokenId === '') throw new Refusal(400, 'invalid_request', 'tokenId must be a string');
    accessTokens.delete(tokenId);
    for (const [value, entry] of refreshTokens) if (entry.jti === tokenId) refreshTokens.delete(value);
    res.writeHead(302, { location: payload['callbackUrl'] as string, 'cache-control': 'no-store' });
    res.end();
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', baseUrl);
    const handle = async () => {
      if (url.pathname === '/v1/oauth/token') return token(req, res);
      if (req.method !== 'GET') throw new Refusal(405, 'invalid_request', 'GET only', { allow: 'GET' });
      if (url.pathname === '/v1/auth/external/redirect') return loginRedirect(url.searchParams, res);
      if (url.pathname === '/v1/auth/logout/redirect') return logoutRedirect(url.searchParams, res);
      throw new Refusal(404, 'not_found', 'no such endpoint');
    };
    handle().catch((err: unknown) => {
      if (res.headersSent) return res.end();
      if (err instanceof Refusal) return sendJson(res, err.status, { error: err.error, message: err.message }, err.headers);
      sendJson(res, 500, { error: 'server_error', message: 'the emulator failed' });
    });
  });

  return {
    baseUrl,
    users,
    counts,
    resetCounts,
    nextSignIn(outcome) {
      next = outcome;
    },
    isActive(jti) {
      const exp = accessTokens.get(jti);
      return exp !== undefined && exp > Date.now() / 1000;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

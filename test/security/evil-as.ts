/**
 * A loopback "man in the middle" for the authorization server, so the security suite can make the
 * provider side misbehave on purpose.
 *
 * The BFF discovers it (LATCH_DISCOVERY_URL) instead of the real oidc-provider. It serves the real
 * discovery document with three endpoints pointing at itself — token, userinfo and jwks — and leaves
 * the rest (authorization, end_session, revocation) with the real provider, so the browser walk is
 * the real one. Its JWKS holds the real provider's keys plus one key of ours (K), so:
 *
 * - tokens the real provider signed still verify (pass-through);
 * - tokens re-signed with K verify too, which lets a test forge one defect at a time (wrong aud,
 *   expired, a sub of someone else...) while everything else stays valid;
 * - signature defects (alg none, a corrupted signature, HS256 keyed with K's public key, a key not
 *   in the JWKS) are forged on top of that.
 *
 * `onToken` / `onUserinfo` rewrite the next answers; tests set them before each case and reset them.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { exportJWK, SignJWT, type JWK } from 'jose';
import { listen, type Listening } from '../helpers/net.ts';

export type Claims = Record<string, unknown>;

export type SignMode =
  /** Signed with K (in the JWKS): valid. */
  | 'valid'
  /** {"alg":"none"} and no signature. */
  | 'none'
  /** Signed with K, then a byte of the signature flipped. */
  | 'bad-signature'
  /** HS256 with K's public key (PEM) as the HMAC secret: the classic algorithm-confusion forgery. */
  | 'hs256-public-key'
  /** RS256 with a key that is not in the JWKS, under K's kid. */
  | 'unknown-key';

export interface TokenRewrite {
  /** Which grant's answers to rewrite. default: every grant */
  grant?: 'authorization_code' | 'refresh_token';
  /** New ID token claims from the real ones (return a new object). */
  claims?: (claims: Claims) => Claims;
  /** Extra or replacing protected-header members. */
  header?: Record<string, unknown>;
  sign?: SignMode;
}

export interface Interceptor {
  url: string;
  discoveryUrl: string;
  /** K's key id. */
  kid: string;
  /** Rewrites the ID token of the token answers that match; undefined: pass through. */
  onToken: TokenRewrite | undefined;
  /** Rewrites userinfo answers; undefined: pass through. */
  onUserinfo: ((claims: Claims) => Claims) | undefined;
  /** Counts of requests by endpoint. */
  counts: { token: number; userinfo: number; jwks: number };
  /** Signs arbitrary claims (logout tokens, ID tokens) the way `mode` says. */
  sign(claims: Claims, mode?: SignMode, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function decodeJwt(jwt: string): { header: Record<string, unknown>; claims: Claims } {
  const [h, p] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Claims,
  };
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startInterceptor(upstreamIssuer: string): Promise<Interceptor> {
  const upstream = (await (await fetch(`${upstreamIssuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  const upstreamJwks = (await (await fetch(String(upstream['jwks_uri']))).json()) as { keys: JWK[] };

  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `evil-${randomUUID()}`;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' };
  const publicPem = createPublicKey(pair.privateKey).export({ type: 'spki', format: 'pem' }) as string;

  const signWith = (key: KeyObject | Uint8Array, alg: string, claims: Claims, header: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg, kid, ...header }).sign(key);

  const sign = async (claims: Claims, mode: SignMode = 'valid', header: Record<string, unknown> = {}): Promise<string> => {
    switch (mode) {
      case 'valid':
        return signWith(pair.privateKey, 'RS256', claims, header);
      case 'none':
        return `${b64url(JSON.stringify({ alg: 'none', ...header }))}.${b64url(JSON.stringify(claims))}.`;
      case 'bad-signature': {
        const jwt = await signWith(pair.privateKey, 'RS256', claims, header);
        const [h, p, s] = jwt.split('.');
        const sig = Buffer.from(s!, 'base64url');
        sig[10] = sig[10]! ^ 0x01;
        return `${h}.${p}.${sig.toString('base64url')}`;
      }
      case 'hs256-public-key':
        return signWith(new TextEncoder().encode(publicPem), 'HS256', claims, header);
      case 'unknown-key':
        return signWith(stranger.privateKey, 'RS256', claims, header);
    }
  };

  let self: Listening | undefined;
  const state: Interceptor = {
    url: '',
    discoveryUrl: '',
    kid,
    onToken: undefined,
    onUserinfo: undefined,
    counts: { token: 0, userinfo: 0, jwks: 0 },
    sign,
    close: () => self?.close() ?? Promise.resolve(),
  };

  const handler: http.RequestListener = (req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (path === '/.well-known/openid-configuration') {
        return json(200, {
          ...upstream,
          token_endpoint: `${state.url}/token`,
          userinfo_endpoint: `${state.url}/me`,
          jwks_uri: `${state.url}/jwks`,
        });
      }
      if (path === '/jwks') {
        state.counts.jwks++;
        return json(200, { keys: [publicJwk, ...upstreamJwks.keys] });
      }
      if (path === '/token' && req.method === 'POST') {
        state.counts.token++;
        const body = await readBody(req);
        const grant = new URLSearchParams(body.toString('utf8')).get('grant_type') ?? '';
        const headers: Record<string, string> = { 'content-type': String(req.headers['content-type'] ?? ''), accept: 'application/json' };
        if (req.headers.authorization) headers['authorization'] = req.headers.authorization;
        const answer = await fetch(String(upstream['token_endpoint']), { method: 'POST', headers, body: body.toString('utf8') });
        const out = (await answer.json()) as Record<string, unknown>;
        const rewrite = state.onToken;
        if (answer.ok && rewrite && (!rewrite.grant || rewrite.grant === grant) && typeof out['id_token'] === 'string') {
          const { claims } = decodeJwt(out['id_token']);
          out['id_token'] = await sign(rewrite.claims ? rewrite.claims({ ...claims }) : claims, rewrite.sign ?? 'valid', rewrite.header ?? {});
        }
        return json(answer.status, out);
      }
      if (path === '/me') {
        state.counts.userinfo++;
        const answer = await fetch(String(upstream['userinfo_endpoint']), {
          method: 'GET',
          headers: { authorization: String(req.headers.authorization ?? ''), accept: 'application/json' },
        });
        const text = await answer.text();
        if (!answer.ok || !state.onUserinfo) {
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
            ...(answer.headers.get('www-authenticate') ? { 'www-authenticate': answer.headers.get('www-authenticate')! } : {}),
          });
          return res.end(text);
        }
        return json(200, state.onUserinfo(JSON.parse(text) as Claims));
      }
      json(404, { error: 'not_found' });
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  };

  self = await listen(handler);
  state.url = self.url;
  state.discoveryUrl = `${self.url}/.well-known/openid-configuration`;
  return state;
}

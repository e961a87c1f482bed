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
 *
 * For the conformance battery (test/conformance/) it also misbehaves the way the OpenID conformance
 * suite's client tests do: `rotate()` switches K for a new key abruptly (the old one leaves the
 * JWKS), `onJwks` and `onUserinfoAnswer` replace those answers outright (a 500, HTML, silence, a
 * signed userinfo JWT, a key set of our choosing), `onDiscovery` rewrites the discovery document,
 * and `onToken.body` the whole token answer. It publishes an ES256 key too, for wrong-algorithm cases,
 * serves its JWKS at a random path (only discovery tells where), and records what it was sent.
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
  | 'unknown-key'
  /** ES256 with the EC key in the JWKS (its own kid): valid, but not the algorithm an RS256 client pinned. */
  | 'es256'
  /** ES256 with the EC key, then a byte of the signature flipped. */
  | 'es256-bad-signature';

export interface TokenRewrite {
  /** Which grant's answers to rewrite. default: every grant */
  grant?: 'authorization_code' | 'refresh_token';
  /** New ID token claims from the real ones (return a new object). */
  claims?: (claims: Claims) => Claims;
  /** Extra or replacing protected-header members. */
  header?: Record<string, unknown>;
  sign?: SignMode;
  /** Sign with this instead (e.g. HS256 keyed with the client secret). */
  signWith?: (claims: Claims, header: Record<string, unknown>) => Promise<string>;
  /** Switch to a new K right before signing (the server rotates just before it signs). */
  rotateFirst?: boolean;
  /** Rewrites the whole token answer, after the ID token (drop access_token, change token_type...). */
  body?: (answer: Record<string, unknown>) => Record<string, unknown>;
}

/** An answer of our own: status, content type and body; no answer at all (`hang`); a cut connection (`reset`). */
export type Answer = { status: number; type?: string; headers?: Record<string, string>; body: string } | 'hang' | 'reset';

export interface Interceptor {
  url: string;
  discoveryUrl: string;
  /** K's key id. */
  kid: string;
  /** Rewrites the ID token of the token answers that match; undefined: pass through. */
  onToken: TokenRewrite | undefined;
  /** Rewrites userinfo answers; undefined: pass through. */
  onUserinfo: ((claims: Claims) => Claims) | undefined;
  /** Replaces the userinfo answer, given the real claims (after `onUserinfo`); undefined: as above. */
  onUserinfoAnswer: ((claims: Claims) => Answer | Promise<Answer>) | undefined;
  /** Replaces the JWKS answer, given the keys it would publish; undefined: K, the EC key, the real ones. */
  onJwks: ((keys: { ours: JWK; ec: JWK; upstream: JWK[] }) => Answer) | undefined;
  /** Rewrites the discovery document. */
  onDiscovery: ((doc: Record<string, unknown>) => Record<string, unknown>) | undefined;
  /** Counts of requests by endpoint. */
  counts: { token: number; userinfo: number; jwks: number; discovery: number };
  /** What came in: the token requests' client authentication and grant; userinfo's scheme, bearer token and query. */
  seen: { tokenAuth: string[]; grants: string[]; userinfoAuth: string[]; userinfoTokens: string[]; userinfoQuery: string[] };
  /** The last token answer sent back (to look for leaks). */
  lastToken: Record<string, unknown> | undefined;
  /** K's public JWK, as published. */
  publicJwk(): JWK;
  /** Replaces K with a new key (new kid); the old one leaves the JWKS at once. */
  rotate(): Promise<void>;
  /** Signs arbitrary claims (logout tokens, ID tokens) the way `mode` says. */
  sign(claims: Claims, mode?: SignMode, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** A JWKS answer holding exactly `keys`. */
export function jwksAnswer(keys: JWK[]): Answer {
  return { status: 200, type: 'application/json', body: JSON.stringify({ keys }) };
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

  const newK = async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = `evil-${randomUUID()}`;
    return {
      pair,
      kid,
      publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' } as JWK,
      publicPem: createPublicKey(pair.privateKey).export({ type: 'spki', format: 'pem' }) as string,
    };
  };
  let k = await newK();
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecKid = `evil-ec-${randomUUID()}`;
  const ecJwk = { ...(await exportJWK(ec.publicKey)), kid: ecKid, alg: 'ES256', use: 'sig' } as JWK;
  const jwksPath = `/jwks-${randomUUID().slice(0, 8)}`;

  // A `crit` header is signed as given: jose signs only extensions it is told it understands.
  const signWith = (key: KeyObject | Uint8Array, alg: string, claims: Claims, header: Record<string, unknown>, kid = k.kid) =>
    new SignJWT(claims).setProtectedHeader({ alg, kid, ...header }).sign(key, {
      ...(Array.isArray(header['crit']) ? { crit: Object.fromEntries((header['crit'] as string[]).map((name) => [name, true])) } : {}),
    });
  const flip = (jwt: string) => {
    const [h, p, s] = jwt.split('.');
    const sig = Buffer.from(s!, 'base64url');
    sig[10] = sig[10]! ^ 0x01;
    return `${h}.${p}.${sig.toString('base64url')}`;
  };

  const sign = async (claims: Claims, mode: SignMode = 'valid', header: Record<string, unknown> = {}): Promise<string> => {
    switch (mode) {
      case 'valid':
        return signWith(k.pair.privateKey, 'RS256', claims, header);
      case 'none':
        return `${b64url(JSON.stringify({ alg: 'none', ...header }))}.${b64url(JSON.stringify(claims))}.`;
      case 'bad-signature':
        return flip(await signWith(k.pair.privateKey, 'RS256', claims, header));
      case 'hs256-public-key':
        return signWith(new TextEncoder().encode(k.publicPem), 'HS256', claims, header);
      case 'unknown-key':
        return signWith(stranger.privateKey, 'RS256', claims, header);
      case 'es256':
        return signWith(ec.privateKey, 'ES256', claims, header, ecKid);
      case 'es256-bad-signature':
        return flip(await signWith(ec.privateKey, 'ES256', claims, header, ecKid));
    }
  };

  let self: Listening | undefined;
  const state: Interceptor = {
    url: '',
    discoveryUrl: '',
    kid: k.kid,
    onToken: undefined,
    onUserinfo: undefined,
    onUserinfoAnswer: undefined,
    onJwks: undefined,
    onDiscovery: undefined,
    counts: { token: 0, userinfo: 0, jwks: 0, discovery: 0 },
    seen: { tokenAuth: [], grants: [], userinfoAuth: [], userinfoTokens: [], userinfoQuery: [] },
    lastToken: undefined,
    publicJwk: () => k.publicJwk,
    async rotate() {
      k = await newK();
      state.kid = k.kid;
    },
    sign,
    close: () => self?.close() ?? Promise.resolve(),
  };

  const handler: http.RequestListener = (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      const send = (answer: Answer) => {
        if (answer === 'hang') return; // the caller's timeout ends it
        if (answer === 'reset') return req.socket.destroy();
        res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json', 'cache-control': 'no-store', ...answer.headers });
        res.end(answer.body);
      };
      if (path === '/.well-known/openid-configuration') {
        state.counts.discovery++;
        const doc = { ...upstream, token_endpoint: `${state.url}/token`, userinfo_endpoint: `${state.url}/me`, jwks_uri: `${state.url}${jwksPath}` };
        return json(200, state.onDiscovery ? state.onDiscovery(doc) : doc);
      }
      if (path === jwksPath) {
        state.counts.jwks++;
        if (state.onJwks) return send(state.onJwks({ ours: k.publicJwk, ec: ecJwk, upstream: upstreamJwks.keys }));
        return json(200, { keys: [k.publicJwk, ecJwk, ...upstreamJwks.keys] });
      }
      if (path === '/token' && req.method === 'POST') {
        state.counts.token++;
        const body = await readBody(req);
        const grant = new URLSearchParams(body.toString('utf8')).get('grant_type') ?? '';
        state.seen.grants.push(grant);
        state.seen.tokenAuth.push(req.headers.authorization?.split(' ')[0] ?? (new URLSearchParams(body.toString('utf8')).has('client_secret') ? 'client_secret_post' : 'none'));
        const headers: Record<string, string> = { 'content-type': String(req.headers['content-type'] ?? ''), accept: 'application/json' };
        if (req.headers.authorization) headers['authorization'] = req.headers.authorization;
        const answer = await fetch(String(upstream['token_endpoint']), { method: 'POST', headers, body: body.toString('utf8') });
        let out = (await answer.json()) as Record<string, unknown>;
        const rewrite = state.onToken;
        if (answer.ok && rewrite && (!rewrite.grant || rewrite.grant === grant)) {
          if (typeof out['id_token'] === 'string' && (rewrite.claims || rewrite.sign || rewrite.signWith || rewrite.header || rewrite.rotateFirst)) {
            if (rewrite.rotateFirst) await state.rotate();
            const { claims } = decodeJwt(out['id_token']);
            const next = rewrite.claims ? rewrite.claims({ ...claims }) : claims;
            out['id_token'] = rewrite.signWith
              ? await rewrite.signWith(next, rewrite.header ?? {})
              : await sign(next, rewrite.sign ?? 'valid', rewrite.header ?? {});
          }
          if (rewrite.body) out = rewrite.body({ ...out });
        }
        if (answer.ok) state.lastToken = out;
        return json(answer.status, out);
      }
      if (path === '/me') {
        state.counts.userinfo++;
        state.seen.userinfoAuth.push(req.headers.authorization?.split(' ')[0] ?? 'none');
        state.seen.userinfoTokens.push(req.headers.authorization?.split(' ')[1] ?? '');
        state.seen.userinfoQuery.push(url.search);
        const answer = await fetch(String(upstream['userinfo_endpoint']), {
          method: 'GET',
          headers: { authorization: String(req.headers.authorization ?? ''), accept: 'application/json' },
        });
        const text = await answer.text();
        if (answer.ok && state.onUserinfoAnswer) {
          const claims = JSON.parse(text) as Claims;
          return send(await state.onUserinfoAnswer(state.onUserinfo ? state.onUserinfo(claims) : claims));
        }
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

/** What the resource tests share: the API's audience, and an issuer of our own whose keys they control. */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { listen, type Listening } from '../../helpers/net.ts';

export const RESOURCE = 'https://orders.latch.test';

const servers: Listening[] = [];

/** Closes every issuer keyedIssuer() started (a suite's after()). */
export async function closeIssuers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

/** An issuer of our own on loopback: its keys sign whatever a test needs; it counts JWKS fetches. */
export async function keyedIssuer(extraKeys: Array<[kid: string, alg: string]> = []) {
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK }>();
  const published = new Set<string>();
  let up = true;
  const counts = { jwks: 0 };
  const server = await listen((req, res) => {
    if (!up) return res.writeHead(500).end();
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ issuer: server.url, jwks_uri: `${server.url}/jwks` }));
    }
    if (req.url === '/jwks') {
      counts.jwks += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ keys: [...published].map((kid) => keys.get(kid)!.jwk) }));
    }
    res.writeHead(404).end();
  });
  servers.push(server);
  const addKey = async (kid: string, alg = 'RS256', publish = true) => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    keys.set(kid, { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
    if (publish) published.add(kid);
  };
  // Every key a test signs with is there before the first fetch (a later one costs a refetch and its 1 s floor).
  for (const [kid, alg] of [['k1', 'RS256'] as [string, string], ...extraKeys]) await addKey(kid, alg);
  return {
    issuer: server.url,
    counts,
    addKey,
    publish: (kid: string) => published.add(kid),
    setUp: (value: boolean) => (up = value),
    /** A signed token: `claims` over sensible defaults (aud RESOURCE, scope orders:read, 5 minutes). */
    sign(claims: JWTPayload = {}, header: { kid?: string; alg?: string; typ?: string | null } = {}) {
      const kid = header.kid ?? 'k1';
      const key = keys.get(kid)!;
      const now = Math.floor(Date.now() / 1000);
      const typ = header.typ === undefined ? 'at+jwt' : header.typ;
      return new SignJWT({ iss: server.url, aud: RESOURCE, sub: 'user-1', client_id: 'app', scope: 'orders:read', iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: header.alg ?? key.jwk.alg!, kid, ...(typ ? { typ } : {}) })
        .sign(key.privateKey);
    },
  };
}

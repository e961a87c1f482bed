import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EnvReader } from './env.ts';

/** One of the BFF's own signing keys (private_key_jwt, RFC 7523): the key, its JWS algorithm, and its kid when the JWK named one. */
export interface ClientKeyConfig {
  readonly key: KeyObject;
  readonly alg: string;
  /** From the JWK; otherwise its RFC 7638 thumbprint is the kid (bff/oauth/client-keys.ts). */
  readonly kid?: string;
}

/** How the BFF authenticates to the token endpoint with a key (README: "Client authentication with a key"). */
export interface ClientKeysSection {
  /**
   * LATCH_CLIENT_PRIVATE_KEY or LATCH_CLIENT_PRIVATE_KEY_FILE, for LATCH_TOKEN_AUTH_METHOD=private_key_jwt:
   * the first signs, all are published at /.well-known/jwks.json (rotation, like LATCH_COOKIE_SECRET).
   * Empty with any other method.
   */
  readonly clientKeys: readonly ClientKeyConfig[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;
/** Algorithms by key type; RSA signs RS256 unless the JWK says PS256 (FAPI 2.0 asks for PS256 or ES256). */
const ALGS: Record<string, readonly string[]> = {
  rsa: ['RS256', 'PS256', 'RS384', 'PS384', 'RS512', 'PS512'],
  'P-256': ['ES256'],
  'P-384': ['ES384'],
  'P-521': ['ES512'],
  ed25519: ['EdDSA', 'Ed25519'],
};

/**
 * The client keys section: LATCH_CLIENT_PRIVATE_KEY (PEM blocks, one after another; a private JWK; a
 * JSON array of them; or a JWK set) or LATCH_CLIENT_PRIVATE_KEY_FILE (the same, in a file). Only
 * private keys of RSA (2048 bits or more), P-256/384/521 and Ed25519. No message ever shows key material.
 */
export function readClientKeys(env: EnvReader, tokenAuthMethod: string, profile?: 'fapi2'): ClientKeysSection {
  const inline = env.str('LATCH_CLIENT_PRIVATE_KEY');
  const file = env.str('LATCH_CLIENT_PRIVATE_KEY_FILE');
  const variable = file !== undefined ? 'LATCH_CLIENT_PRIVATE_KEY_FILE' : 'LATCH_CLIENT_PRIVATE_KEY';
  const wanted = tokenAuthMethod === 'private_key_jwt';
  if (inline !== undefined && file !== undefined) {
    env.fail('LATCH_CLIENT_PRIVATE_KEY_FILE', 'and LATCH_CLIENT_PRIVATE_KEY are both set: set one');
    return { clientKeys: [] };
  }
  if (inline === undefined && file === undefined) {
    if (wanted) env.fail('LATCH_CLIENT_PRIVATE_KEY', 'is required with LATCH_TOKEN_AUTH_METHOD=private_key_jwt (or LATCH_CLIENT_PRIVATE_KEY_FILE)');
    return { clientKeys: [] };
  }
  if (!wanted) {
    env.fail(variable, 'is set, but LATCH_TOKEN_AUTH_METHOD is not private_key_jwt (set it, or remove the key)');
    return { clientKeys: [] };
  }
  let text = inline ?? '';
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      env.fail(variable, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return { clientKeys: [] };
    }
  }
  const keys: ClientKeyConfig[] = [];
  const items = splitKeys(text);
  if (items === undefined || items.length === 0) {
    env.fail(variable, 'holds no key: give PEM blocks, a private JWK, a JSON array of them, or a JWK set');
    return { clientKeys: [] };
  }
  items.forEach((item, i) => {
    const problem = (what: string) => env.fail(variable, `key ${i + 1}: ${what}`);
    let key: KeyObject;
    try {
      key = typeof item === 'string' ? createPrivateKey(item) : createPrivateKey({ key: item as JsonWebKey, format: 'jwk' });
    } catch {
      return problem('is not a private key (PKCS#8, SEC1 or PKCS#1 PEM, or a JWK with its private members)');
    }
    const type = key.asymmetricKeyType === 'ec' ? String(key.asymmetricKeyDetails?.namedCurve).replace('prime256v1', 'P-256').replace('secp384r1', 'P-384').replace('secp521r1', 'P-521') : String(key.asymmetricKeyType);
    const algs = ALGS[type];
    if (!algs) return problem(`is a ${type} key: use RSA, P-256, P-384, P-521 or Ed25519`);
    if (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return problem('is an RSA key under 2048 bits');
    const jwk = typeof item === 'string' ? undefined : item;
    // FAPI 2.0 allows PS256, not RS256, for an RSA key (config/profile.ts checks the rest).
    const alg = typeof jwk?.['alg'] === 'string' ? jwk['alg'] : profile === 'fapi2' && type === 'rsa' ? 'PS256' : algs[0]!;
    if (!algs.includes(alg)) return problem(`names alg ${alg}, which a ${type} key cannot sign`);
    const kid = typeof jwk?.['kid'] === 'string' && jwk['kid'] !== '' ? jwk['kid'] : undefined;
    keys.push({ key, alg, ...(kid ? { kid } : {}) });
  });
  return { clientKeys: keys };
}

/** PEM blocks, or JWKs from a JWK, an array of them or a JWK set; undefined when the text is neither. */
function splitKeys(text: string): Array<string | Record<string, unknown>> | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return undefined;
    }
    const list = Array.isArray(parsed) ? parsed : parsed && typeof parsed === 'object' && Array.isArray((parsed as { keys?: unknown }).keys) ? (parsed as { keys: unknown[] }).keys : [parsed];
    return list.every((k) => k && typeof k === 'object' && !Array.isArray(k)) ? (list as Array<Record<string, unknown>>) : undefined;
  }
  return trimmed.match(PEM_BLOCK) ?? undefined;
}

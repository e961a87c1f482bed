/**
 * The BFF's own signing keys, for private_key_jwt client authentication (RFC 7523, OIDC Core 9): each
 * token-endpoint call (code exchange, refresh, revocation, client credentials, token exchange) carries
 * a client assertion signed with the first key; every key's public half is published at
 * /.well-known/jwks.json for servers that fetch it (routes/jwks.ts). Rotation, as with the cookie
 * secrets: put the new key first, keep the old one listed until the server has fetched the new set.
 * oauth4webapi builds and signs the assertion (PrivateKeyJwt); jose exports and fingerprints the keys.
 */
import * as oauth from 'oauth4webapi';
import { calculateJwkThumbprint, exportJWK, importJWK, type JWK } from 'jose';
import { createPublicKey } from 'node:crypto';
import type { ClientKeyConfig } from '../config/client-keys.ts';

export interface PublicJwks {
  keys: JWK[];
}

export class ClientKeys {
  readonly #keys: readonly ClientKeyConfig[];
  #jwks: Promise<PublicJwks> | undefined;
  #auth: Promise<oauth.ClientAuth> | undefined;

  constructor(keys: readonly ClientKeyConfig[]) {
    if (keys.length === 0) throw new TypeError('ClientKeys needs at least one key');
    this.#keys = keys;
  }

  /** The public keys, each with its kid (the JWK's, or its RFC 7638 thumbprint), alg and `use: sig`. Computed once. */
  jwks(): Promise<PublicJwks> {
    this.#jwks ??= Promise.all(this.#keys.map(async ({ key, alg, kid }) => {
      const jwk = await exportJWK(createPublicKey(key));
      return { ...jwk, kid: kid ?? (await calculateJwkThumbprint(jwk)), alg, use: 'sig' };
    })).then((keys) => ({ keys }));
    return this.#jwks;
  }

  /** oauth4webapi's client authentication, signing with the first key under its published kid. */
  clientAuth(): oauth.ClientAuth {
    return async (as, client, body, headers) => {
      this.#auth ??= this.#signer();
      return (await this.#auth)(as, client, body, headers);
    };
  }

  async #signer(): Promise<oauth.ClientAuth> {
    const first = this.#keys[0]!;
    const { keys } = await this.jwks();
    const privateJwk = first.key.export({ format: 'jwk' }) as JWK;
    const key = await importJWK(privateJwk, first.alg);
    return oauth.PrivateKeyJwt({ key: key as CryptoKey, kid: keys[0]!.kid! });
  }
}

/** One ClientKeys per configuration's key list, shared by the provider and the JWKS route. */
const byConfig = new WeakMap<readonly ClientKeyConfig[], ClientKeys>();
export function clientKeysFor(keys: readonly ClientKeyConfig[]): ClientKeys | undefined {
  if (keys.length === 0) return undefined;
  let found = byConfig.get(keys);
  if (!found) {
    found = new ClientKeys(keys);
    byConfig.set(keys, found);
  }
  return found;
}

import * as oauth from 'oauth4webapi';

/** Fresh state, nonce and PKCE verifier for one sign-in attempt (32 random bytes each). */
export function newTransactionSecrets(): { state: string; nonce: string; codeVerifier: string } {
  return {
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    codeVerifier: oauth.generateRandomCodeVerifier(),
  };
}

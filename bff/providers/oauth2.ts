import * as oauth from 'oauth4webapi';
import type { LatchUser } from '../contract.ts';
import { LatchError } from '../errors.ts';
import { outbound, requestOptions } from '../oauth/outbound.ts';
import { OidcProvider, type OidcProviderOptions } from './oidc.ts';
import { pickUserClaims } from './provider.ts';

export type OAuth2ProviderOptions = Omit<OidcProviderOptions, 'requireIdToken'>;

/** Userinfo answers larger than this are refused (a misconfigured endpoint serving a page, say). */
const MAX_USERINFO_BYTES = 64 * 1024;

/**
 * A plain OAuth 2.0 server (LATCH_PROVIDER=oauth2), such as one serving `/o/authorize/`,
 * `/o/token/`, `/o/userinfo/` and `/o/revoke_token/`. It may speak OpenID Connect too:
 * with `openid` in the scopes the ID token is required and verified exactly as for `oidc`;
 * without it there is no ID token and the user comes from userinfo alone, which may be
 * any JSON object naming the user by `sub` or, failing that, `id`. Access tokens may be
 * opaque, refresh tokens may or may not rotate (the old one is kept when none comes back).
 */
export class OAuth2Provider extends OidcProvider {
  override readonly kind: string = 'oauth2';

  constructor(options: OAuth2ProviderOptions) {
    super({ ...options, requireIdToken: options.scopes.split(' ').includes('openid') });
  }

  override async userinfo(accessToken: string, expectedSub: string | undefined): Promise<LatchUser> {
    const as = await this.metadata();
    if (!as.userinfo_endpoint) {
      throw new LatchError('LATCH_UPSTREAM_ERROR', 502, 'The authorization server has no userinfo endpoint.');
    }
    const body = await outbound(this.options.outbound, 'userinfo', async () => {
      const res = await oauth.userInfoRequest(as, this.client, accessToken, requestOptions(this.options.outbound));
      const text = await res.text();
      if (!res.ok) {
        throw new LatchError('LATCH_UPSTREAM_ERROR', 502, `The userinfo endpoint answered ${res.status}.`);
      }
      if (!/^application\/([\w.+-]+\+)?json\b/i.test(res.headers.get('content-type') ?? '') || text.length > MAX_USERINFO_BYTES) {
        throw new LatchError('LATCH_UPSTREAM_ERROR', 502, 'The userinfo endpoint did not answer JSON.');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new LatchError('LATCH_UPSTREAM_ERROR', 502, 'The userinfo endpoint answered malformed JSON.', { cause: err });
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new LatchError('LATCH_UPSTREAM_ERROR', 502, 'The userinfo answer is not a JSON object.');
      }
      return parsed as Record<string, unknown>;
    });
    const sub = stableId(body['sub']) ?? stableId(body['id']);
    if (sub === undefined) {
      throw new LatchError('LATCH_USERINFO_INVALID', 400, 'Userinfo does not name the user (no "sub" or "id").');
    }
    if (expectedSub !== undefined && sub !== expectedSub) {
      throw new LatchError('LATCH_USERINFO_INVALID', 400, 'Userinfo did not match the signed-in user.');
    }
    const { id: _id, ...claims } = body;
    return pickUserClaims({ ...claims, sub });
  }
}

/** A non-empty string, or a whole number (many OAuth 2.0 servers number their users), as a string. */
function stableId(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '' && value.length <= 255) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

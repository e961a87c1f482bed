import { randomBytes } from 'node:crypto';
import type { DevProvider, DevUser } from '../dev/provider.ts';

/** A user of the test provider. Only `login` is required. */
export interface TestUser {
  /** What the user types in the provider's "Email" field, e.g. `ada@example.test`. */
  login: string;
  /** default: a random one (read it back from `TestProvider.users`) */
  password?: string;
  /** The subject (`sub` claim). default: `user-<login>` */
  sub?: string;
  /** default: the part of `login` before any `@` */
  name?: string;
  /** default: `login` */
  email?: string;
  /** default true */
  email_verified?: boolean;
  picture?: string;
  /** Further claims, released with the `profile` scope (roles, org_id...): the BFF's /me shows them. */
  claims?: Record<string, unknown>;
}

/** A test user with every default filled in. */
export type ResolvedTestUser = Required<Omit<TestUser, 'picture' | 'claims'>> & Pick<TestUser, 'picture' | 'claims'>;

export interface TestProviderOptions {
  /** The users who can sign in (at least one). */
  users: readonly TestUser[];
  /**
   * The BFF's public base URL (its LATCH_BASE_URL), or several (LATCH_SITES): each one's `/callback`
   * is a registered redirect URI of the test client.
   */
  bffUrl: string | readonly string[];
  /** Where the provider may send the browser after it signs the user out (LATCH_POST_LOGOUT_REDIRECT_URI). */
  postLogoutRedirectUris?: readonly string[];
  /** default `latch-test` */
  clientId?: string;
  /** default: a random one */
  clientSecret?: string;
  /** Access token lifetime, seconds: a short one makes the BFF refresh. default 3600 */
  accessTokenTtl?: number;
  /** default `127.0.0.1` */
  host?: string;
  /** default 0: a free port */
  port?: number;
}

export interface TestProvider {
  /** The issuer, e.g. `http://127.0.0.1:54321`: LATCH_ISSUER. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly users: readonly ResolvedTestUser[];
  /** LATCH_ISSUER, LATCH_CLIENT_ID, LATCH_CLIENT_SECRET and LATCH_ALLOW_INSECURE_HTTP for the BFF under test. */
  readonly env: Readonly<Record<'LATCH_ISSUER' | 'LATCH_CLIENT_ID' | 'LATCH_CLIENT_SECRET' | 'LATCH_ALLOW_INSECURE_HTTP', string>>;
  /** The user with this login or sub; throws for an unknown one. */
  user(loginOrSub: string): ResolvedTestUser;
  /** Stops the provider (its open connections too). */
  close(): Promise<void>;
}

const INSTALL_HINT = 'latch/testing: startTestProvider() runs oidc-provider, an optional peer dependency of latch. Install it beside latch: npm install --save-dev oidc-provider@^9';

/**
 * Starts a development OpenID provider in this process, on 127.0.0.1 and a free port: the one
 * Latch's own tests and demo use (dev/provider.ts, oidc-provider underneath), with a real sign-in
 * page (the "Email" and "Password" fields, a "Sign in" button), PKCE, refresh tokens, userinfo,
 * revocation and RP-initiated logout. One confidential client is registered for the BFF under test.
 */
export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  if (options.users.length === 0) throw new Error('latch/testing: startTestProvider() needs at least one user');
  const users = options.users.map(resolveUser);
  const seen = new Set<string>();
  for (const user of users) {
    for (const key of [`login ${user.login.toLowerCase()}`, `sub ${user.sub}`]) {
      if (seen.has(key)) throw new Error(`latch/testing: two users with the same ${key}`);
      seen.add(key);
    }
  }
  const bffUrls = typeof options.bffUrl === 'string' ? [options.bffUrl] : [...options.bffUrl];
  if (bffUrls.length === 0) throw new Error('latch/testing: startTestProvider() needs the BFF\'s base URL (bffUrl)');
  const redirectUris = bffUrls.map((url) => {
    const parsed = URL.parse(url);
    if (!parsed || !/^https?:$/.test(parsed.protocol)) throw new Error(`latch/testing: bffUrl "${url}" is not an http(s) URL`);
    return `${parsed.href.replace(/\/$/, '')}/callback`;
  });
  const clientId = options.clientId ?? 'latch-test';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');

  const dev = await loadDevProvider();
  const started: DevProvider = await dev.startDevProvider({
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.accessTokenTtl !== undefined ? { accessTokenTtl: options.accessTokenTtl } : {}),
    users: users.map(toDevUser),
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      ...(options.postLogoutRedirectUris ? { post_logout_redirect_uris: [...options.postLogoutRedirectUris] } : {}),
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    }],
  });
  return {
    issuer: started.issuer,
    clientId,
    clientSecret,
    users,
    env: { LATCH_ISSUER: started.issuer, LATCH_CLIENT_ID: clientId, LATCH_CLIENT_SECRET: clientSecret, LATCH_ALLOW_INSECURE_HTTP: 'true' },
    user: (loginOrSub) => findUser(users, loginOrSub),
    close: () => started.close(),
  };
}

/** The user with this login (any case) or sub; throws for an unknown one. */
export function findUser(users: readonly ResolvedTestUser[], loginOrSub: string): ResolvedTestUser {
  const found = users.find((u) => u.login.toLowerCase() === loginOrSub.toLowerCase() || u.sub === loginOrSub);
  if (!found) throw new Error(`latch/testing: no test user "${loginOrSub}" (users: ${users.map((u) => u.login).join(', ')})`);
  return found;
}

/** dev/provider.ts, imported only now: it imports oidc-provider, which may not be installed. */
async function loadDevProvider(): Promise<typeof import('../dev/provider.ts')> {
  try {
    return await import('../dev/provider.ts');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && /oidc-provider/.test(e.message)) {
      throw new Error(INSTALL_HINT, { cause: err });
    }
    throw err;
  }
}

function resolveUser(user: TestUser): ResolvedTestUser {
  const login = user.login.trim();
  if (!login) throw new Error('latch/testing: a test user needs a login');
  return {
    login,
    password: user.password ?? randomBytes(12).toString('base64url'),
    sub: user.sub ?? `user-${login.toLowerCase()}`,
    name: user.name ?? login.split('@')[0]!,
    email: user.email ?? login,
    email_verified: user.email_verified ?? true,
    ...(user.picture !== undefined ? { picture: user.picture } : {}),
    ...(user.claims ? { claims: { ...user.claims } } : {}),
  };
}

function toDevUser(user: ResolvedTestUser): DevUser {
  return {
    sub: user.sub,
    login: user.login,
    password: user.password,
    name: user.name,
    email: user.email,
    email_verified: user.email_verified,
    ...(user.picture !== undefined ? { picture: user.picture } : {}),
    ...(user.claims ? { extra: user.claims } : {}),
  };
}

/**
 * A BFF of its own for the route-level tests that need nothing but the BFF (no provider round trip):
 * `createBff` over a complete configuration, answered in memory (in-memory.ts), its log lines kept.
 * Its authorization server is 127.0.0.1:9, where nothing listens: a call there is refused at once
 * (502), so a test that reaches the provider by mistake fails rather than waits. Give the endpoints
 * by hand (`HAND_ENDPOINTS`) for a /login that needs no discovery.
 */
import { randomBytes } from 'node:crypto';
import { createBff, type Bff, type BffOptions } from '../../bff/app.ts';
import { loadConfig, type BffConfig } from '../../bff/config.ts';
import type { Session } from '../../bff/session/session.ts';
import { HttpClient } from './http.ts';
import { inMemory, type InMemory } from './in-memory.ts';
import { captureLogs } from './logs.ts';

/** The microsite allowed to call it. */
export const SITE = 'http://www.latch.test:8080';
export const BASE_URL = 'http://127.0.0.1:8787';

/** Its environment: complete, `extra` over it. */
export function bffEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    LATCH_ISSUER: 'http://127.0.0.1:9',
    LATCH_CLIENT_ID: 'latch-test',
    LATCH_CLIENT_SECRET: 'secret',
    LATCH_BASE_URL: BASE_URL,
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOWED_ORIGINS: SITE,
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_HTTP_TIMEOUT_MS: '1000',
    ...extra,
  };
}

/** The provider's endpoints given by hand, on the unreachable issuer: no discovery, so /login answers without a call. */
export const HAND_ENDPOINTS = {
  LATCH_AUTHORIZATION_ENDPOINT: 'http://127.0.0.1:9/authorize',
  LATCH_TOKEN_ENDPOINT: 'http://127.0.0.1:9/token',
  LATCH_USERINFO_ENDPOINT: 'http://127.0.0.1:9/userinfo',
  LATCH_JWKS_URI: 'http://127.0.0.1:9/jwks',
} as const;

export interface MemoryBff extends InMemory {
  app: Bff;
  config: BffConfig;
  /** Every log line it wrote (debug and up), raw. */
  logs: string[];
  /** A cookie-jar client whose requests it answers in memory. */
  client(): HttpClient;
  /** The Cookie header of `session`, sealed and written by its own first site's cookies (as /callback would). */
  cookieFor(session: Session): Promise<string>;
}

/** A BFF built from `bffEnv(env)`, requests to `LATCH_BASE_URL` answered in memory. */
export function memoryBff(env: Record<string, string> = {}, options: BffOptions = {}): MemoryBff {
  const config = loadConfig(bffEnv(env));
  const { lines: logs, logger } = captureLogs();
  const app = createBff(config, { logger, ...options });
  const memory = inMemory(app, { url: config.baseUrl.origin });
  return {
    ...memory, app, config, logs,
    client: () => new HttpClient({ fetch: memory.fetch }),
    async cookieFor(session) {
      const setCookies = await app.latch.sites.all[0]!.cookies.write(session);
      return setCookies.map((c) => c.split(';')[0]!).join('; ');
    },
  };
}

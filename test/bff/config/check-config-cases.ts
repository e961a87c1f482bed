/**
 * Environments `latch-bff --check-config` is run on, and how: check-config.test.ts compares what it
 * prints with check-config.golden.json, recorded from the single-function loadConfig before the
 * configuration was cut into sections (issue 16). Fixed values only (no random secret, no free port),
 * so the output is the same on every run; the worktree's path is written `<root>`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../../bff/cli.ts', import.meta.url));

type Env = Record<string, string>;

/** Two strong secrets (random once, fixed here): --check-config never prints them. */
const SECRET = 'FRthbB_pF-C0RS8BiewKzde3JYFvDr_fMTaOvVcDAz8';
const OLD_SECRET = '3818976c85670ad767653e58b4ae33bf79e10dc341a23ca5ba33fa86d2e612e6';

/** No widget there: the output names the directory and warns, the same on every machine. */
const WIDGET = { LATCH_WIDGET_DIR: 'test/bff/config/no-widget' };

const OIDC: Env = {
  ...WIDGET,
  LATCH_ISSUER: 'https://login.example.com',
  LATCH_CLIENT_ID: 'web',
  LATCH_CLIENT_SECRET: 'client-secret',
  LATCH_BASE_URL: 'https://auth.example.com',
  LATCH_COOKIE_SECRET: SECRET,
  LATCH_ALLOWED_ORIGINS: 'https://www.example.com,https://shop.example.com',
};
const NO_SITE = { LATCH_BASE_URL: '', LATCH_ALLOWED_ORIGINS: '' };

export const CASES: Record<string, Env> = {
  'nothing set': {},
  'a valid oidc configuration': OIDC,
  'a valid configuration with every choice that shows': {
    ...OIDC,
    LATCH_SERVICE_CLIENT_ID: 'service',
    LATCH_SERVICE_CLIENT_SECRET: 'service-secret',
    LATCH_COOKIE_SECRET: `${SECRET},${OLD_SECRET}`,
    LATCH_SITES: JSON.stringify([{ baseUrl: 'https://auth.shop-c.example', allowedOrigins: ['https://shop-c.example'] }]),
    LATCH_HANDOFF: 'true',
    LATCH_HOST: '0.0.0.0',
    PORT: '8080',
    LATCH_TRUST_PROXY: '2',
    LATCH_METRICS: 'true',
    LATCH_TRACING: 'true',
    LATCH_API_ROUTES: 'orders=https://api.example.com/orders,reports=https://reports.example.com/v1',
    LATCH_API_ROUTE_ORDERS_SCOPE: 'orders:read',
    LATCH_API_ROUTE_REPORTS_TOKEN: 'service',
    LATCH_API_ROUTE_REPORTS_AUDIENCE: 'https://reports.example.com',
    LATCH_SESSION_STORE: 'redis',
    LATCH_REDIS_URL: 'rediss://:pw@cache.example.com:6380/0',
  },
  'every warning': {
    ...OIDC,
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    LATCH_BASE_URL: 'http://auth.example.com',
    LATCH_SESSION_IDLE_TIMEOUT: '7200',
    LATCH_SESSION_MAX_AGE: '3600',
    LATCH_RATE_LIMIT: '0',
    LATCH_MAX_HEADER_BYTES: '65536',
    LATCH_ENABLE_PASSWORD_GRANT: 'true',
  },
  'sites from LATCH_SITES_FILE only': { ...OIDC, ...NO_SITE, LATCH_SITES_FILE: 'test/bff/config/sites.json' },
  'oauth2 from its base URL': { ...OIDC, LATCH_ISSUER: '', LATCH_PROVIDER: 'oauth2', LATCH_OAUTH2_BASE_URL: 'https://app.example.com/' },
  'oauth2 by hand, without metadata': {
    ...OIDC,
    LATCH_ISSUER: '',
    LATCH_PROVIDER: 'oauth2',
    LATCH_AUTHORIZATION_ENDPOINT: 'https://a.example/auth',
    LATCH_TOKEN_ENDPOINT: 'https://a.example/token',
    LATCH_USERINFO_ENDPOINT: 'https://a.example/me',
  },
  'SCAYLE': {
    ...OIDC,
    LATCH_ISSUER: '',
    LATCH_PROVIDER: 'scayle',
    LATCH_SCAYLE_BASE_URL: 'https://tenant.auth.scayle.cloud/',
    LATCH_SCAYLE_SHOP_ID: '1001',
    LATCH_SCAYLE_SHOP_SECRET: 'shop-secret',
    LATCH_SCAYLE_IDP_KEY: 'google',
  },
  'provider problems': {
    ...OIDC,
    LATCH_PROVIDER: 'saml',
    LATCH_DISCOVERY_URL: 'not a url',
    LATCH_JWKS_URI: 'ftp://keys.example.com',
    LATCH_TOKEN_AUTH_METHOD: 'client_secret_jwt',
    LATCH_AUTHORIZE_PARAMS: 'state,a b,prompt=login',
    LATCH_ENABLE_PASSWORD_GRANT: 'maybe',
    LATCH_SERVICE_CLIENT_ID: 'service',
    LATCH_SCOPES: 'profile',
    LATCH_ID_TOKEN_ALG: 'HS256',
    LATCH_HTTP_TIMEOUT_MS: '10',
  },
  'oidc endpoints by hand, without keys': {
    ...OIDC,
    LATCH_AUTHORIZATION_ENDPOINT: 'https://login.example.com/authorize',
    LATCH_TOKEN_ENDPOINT: 'https://login.example.com/token',
    LATCH_ID_TOKEN_ALG: 'none',
  },
  'oauth2 with nothing to find the server by': { ...OIDC, LATCH_ISSUER: '', LATCH_PROVIDER: 'oauth2', LATCH_SCOPES: 'read' },
  'SCAYLE with what it cannot do': {
    ...OIDC,
    LATCH_ISSUER: '',
    LATCH_PROVIDER: 'scayle',
    LATCH_SCAYLE_BASE_URL: 'http://tenant.auth.scayle.cloud',
    LATCH_TOKEN_AUTH_METHOD: 'client_secret_post',
    LATCH_ENABLE_PASSWORD_GRANT: 'true',
    LATCH_SERVICE_CLIENT_ID: 'service',
    LATCH_SERVICE_CLIENT_SECRET: 'service-secret',
    LATCH_API_ROUTES: 'reports=https://reports.example.com',
    LATCH_API_ROUTE_REPORTS_TOKEN: 'service',
  },
  'site problems': {
    ...OIDC,
    LATCH_ALLOWED_ORIGINS: 'https://www.example.com/path,https://shop.example.com',
    LATCH_POST_LOGOUT_REDIRECT_URI: 'https://evil.example/bye',
    LATCH_SITES: JSON.stringify([
      { allowedOrigins: ['https://a.example'] },
      { baseUrl: 'https://auth.b.example/?x=1', allowedOrigins: ['https://b.example'] },
      { baseUrl: 'https://auth.c.example', allowedOrigins: ['https://c.example'], cookie: 'x' },
      { baseUrl: 'https://auth.d.example', allowedOrigins: ['https://d.example'], postLogoutRedirectUri: 'https://evil.example/' },
      { baseUrl: 'https://auth.example.com/latch', allowedOrigins: ['https://e.example'] },
      'https://f.example',
    ]),
    LATCH_HANDOFF: 'yes',
  },
  'LATCH_SITES that is not JSON, and LATCH_SITES_FILE too': { ...OIDC, ...NO_SITE, LATCH_SITES: '{not json', LATCH_SITES_FILE: 'test/bff/config/no-such-sites.json' },
  'LATCH_SITES with no site': { ...OIDC, ...NO_SITE, LATCH_SITES: '[]' },
  'LATCH_SITES with no site, and a missing client id': { ...OIDC, ...NO_SITE, LATCH_SITES: '[]', LATCH_CLIENT_ID: '' },
  'LATCH_BASE_URL without LATCH_ALLOWED_ORIGINS beside LATCH_SITES': { ...OIDC, LATCH_ALLOWED_ORIGINS: '', LATCH_SITES_FILE: 'test/bff/config/sites.json' },
  'hand-off over http': { ...OIDC, LATCH_ALLOW_INSECURE_HTTP: 'true', LATCH_BASE_URL: 'http://auth.example.com', LATCH_HANDOFF: 'true' },
  'session problems': {
    ...OIDC,
    LATCH_COOKIE_SECRET: `${SECRET},${'a'.repeat(32)},changeme-changeme-changeme-changeme`,
    LATCH_SESSION_MAX_AGE: '10',
    LATCH_SESSION_IDLE_TIMEOUT: 'soon',
    LATCH_SESSION_STORE: 'disk',
    LATCH_REDIS_URL: 'http://:hunter2@cache.example.com',
    LATCH_REDIS_TIMEOUT_MS: '1',
  },
  'redis store without LATCH_REDIS_URL, and a short secret': { ...OIDC, LATCH_SESSION_STORE: 'redis', LATCH_COOKIE_SECRET: 'short' },
  'API route problems': {
    ...OIDC,
    LATCH_API_ROUTES: 'Orders=https://a.example,orders=https://api.example.com/orders,orders=https://b.example,q=https://q.example/?x=1,plain=http://plain.example,user=https://u.example,svc=https://s.example,bad=https://b.example,nourl',
    LATCH_API_ROUTE_USER_AUDIENCE: 'https://u.example',
    LATCH_API_ROUTE_USER_TOKEN_EXCHANGE: 'rfc9999',
    LATCH_API_ROUTE_SVC_TOKEN: 'service',
    LATCH_API_ROUTE_SVC_AUDIENCE: 'not a uri',
    LATCH_API_ROUTE_BAD_TOKEN: 'admin',
    LATCH_API_TIMEOUT_MS: '600001',
  },
  'limit problems': {
    ...OIDC,
    LATCH_RATE_LIMIT: '-1',
    LATCH_RATE_LIMIT_WINDOW: '0',
    LATCH_MAX_HEADER_BYTES: '1024',
    LATCH_MAX_BODY_BYTES: '1.5',
    LATCH_REQUEST_TIMEOUT_MS: '999',
  },
  'operations problems': {
    ...OIDC,
    PORT: 'eighty',
    LATCH_TRUST_PROXY: 'yes',
    LATCH_METRICS: 'on',
    LATCH_TRACING: '2',
    LATCH_ALLOW_INSECURE_HTTP: 'sometimes',
    LATCH_BASE_URL: 'http://auth.example.com',
  },
  'problems in every section at once': {
    LATCH_ALLOW_INSECURE_HTTP: 'sometimes',
    LATCH_PROVIDER: 'oauth2',
    LATCH_CLIENT_ID: 'web',
    LATCH_BASE_URL: 'https://auth.example.com/?x',
    LATCH_COOKIE_SECRET: 'changeme',
    LATCH_ALLOWED_ORIGINS: 'https://www.example.com/',
    LATCH_SESSION_STORE: 'redis',
    LATCH_API_ROUTES: 'orders=https://api.example.com/orders?x',
    LATCH_ID_TOKEN_ALG: 'none',
    LATCH_API_TIMEOUT_MS: '1',
    PORT: '70000',
    LATCH_HTTP_TIMEOUT_MS: '1',
    LATCH_RATE_LIMIT: 'many',
    LATCH_TRUST_PROXY: '10',
  },
};

export interface CheckConfigRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `latch-bff --check-config` (bff/cli.ts) in a fresh node on `env` alone, from the worktree's root. */
export function checkConfig(env: Env): Promise<CheckConfigRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--check-config'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      const local = (text: string) => text.replaceAll(ROOT.replace(/\/$/, ''), '<root>');
      resolve({ status, stdout: local(stdout), stderr: local(stderr) });
    });
  });
}

/** Every case, two at a time (the machine is shared), in the order of CASES. */
export async function checkEveryCase(): Promise<Record<string, CheckConfigRun>> {
  const names = Object.keys(CASES);
  const runs: Record<string, CheckConfigRun> = {};
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      runs[name] = await checkConfig(CASES[name]!);
    }
  };
  await Promise.all([worker(), worker()]);
  return Object.fromEntries(names.map((name) => [name, runs[name]!]));
}

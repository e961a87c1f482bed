/**
 * A real django-oauth-toolkit (DOT) server on loopback: the authorization server with ScaleGrowth's
 * `/o/` URL layout (`/o/authorize/`, `/o/token/`, `/o/userinfo/`, `/o/revoke_token/`), for the
 * `LATCH_PROVIDER=oauth2` suites. Debian's `python3-django-oauth-toolkit` (DOT 1.7, Django 3.2) runs
 * under /usr/bin/python3 (not a pyenv `python3` earlier on PATH, which has no Django).
 *
 * Each start is a fresh server: its own SQLite database in a temp dir, migrated; one user with a known
 * password and profile; three confidential applications, because DOT allows one grant type per
 * application: `web` (authorization code, RS256 ID tokens, consent shown), `service` (client
 * credentials) and `password` (resource owner password). Settings as a deployment would have them:
 * PKCE required, OIDC on with an RSA key made for this run, refresh tokens rotated at once
 * (ROTATE_REFRESH_TOKEN, no grace period). `oidc: false` gives a plain OAuth 2.0 DOT (no discovery,
 * no ID tokens, no /o/userinfo/) whose users come from a profile API at /api/profile/.
 *
 * The Django project is test/helpers/dot/ (server.py documents its side). It logs every request
 * (method, path, status; grant type and client id for /o/token/) to a file that `requests()` reads,
 * so tests can count what the BFF asked for. `close()` stops it; it also exits when this process does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseForms, type HttpClient, type HttpResult } from './http.ts';
import { toolSuiteOptions } from './net.ts';

export const DOT_PYTHON: string = process.env.LATCH_DOT_PYTHON ?? '/usr/bin/python3';
const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'dot', 'server.py');
const START_TIMEOUT_MS = 30_000;

let available: boolean | undefined;

/** Whether DOT_PYTHON can import django and oauth2_provider (asked once per process, ~0.3 s). */
export function dotAvailable(): boolean {
  if (available !== undefined) return available;
  try {
    accessSync(DOT_PYTHON, constants.X_OK);
  } catch {
    return (available = false);
  }
  const probe = spawnSync(DOT_PYTHON, ['-c', 'import django, oauth2_provider'], { stdio: 'ignore', timeout: 20_000 });
  return (available = probe.status === 0);
}

/** node:test `describe` options: skip loudly without DOT (fail under CI=true). */
export function dotSuiteOptions(): { skip?: string } {
  return toolSuiteOptions(
    `django-oauth-toolkit under ${DOT_PYTHON}`,
    dotAvailable(),
    'apt-get install python3-django-oauth-toolkit, or set LATCH_DOT_PYTHON',
  );
}

export interface DotUser {
  username: string;
  password: string;
  email: string;
  first_name: string;
  last_name: string;
}

export interface DotApp {
  clientId: string;
  clientSecret: string;
}

/** One request the server answered (its log line). */
export interface DotRequest {
  method: string;
  path: string;
  status: number;
  /** /o/token/ only. */
  grant_type?: string;
  /** /o/token/ only: the client it authenticated as (HTTP Basic or body). */
  client_id?: string;
}

export interface DotOptions {
  /** Redirect URIs of the `web` application (the BFF's `/callback`). */
  redirectUris: string[];
  /** OpenID Connect on (default) or off (plain OAuth 2.0). */
  oidc?: boolean;
  /** ACCESS_TOKEN_EXPIRE_SECONDS. default 3600 */
  accessTokenTtl?: number;
  /** DOT's SCOPES setting. default: openid (with OIDC), read, write */
  scopes?: Record<string, string>;
}

export interface DotServer {
  /** `http://127.0.0.1:<port>`: what LATCH_OAUTH2_BASE_URL names. */
  url: string;
  /** DOT's issuer, `<url>/o` (OIDC only). */
  issuer: string;
  user: DotUser;
  apps: { web: DotApp; service: DotApp; password: DotApp };
  /** How long the server took from spawn to accepting connections, ms (Python's own figure in `serverMs`). */
  startMs: number;
  serverMs: number;
  /** Every request answered so far, oldest first. */
  requests(): DotRequest[];
  /** Requests to /o/token/, optionally of one grant type, since `since` (an index into requests()). */
  tokenRequests(grantType?: string, since?: number): DotRequest[];
  close(): Promise<void>;
}

/** Servers someone forgot to close are killed, and their dirs removed, at process exit. */
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const app = (name: string): DotApp => ({ clientId: `latch-${name}-${randomBytes(4).toString('hex')}`, clientSecret: randomBytes(24).toString('base64url') });

export async function startDot(options: DotOptions): Promise<DotServer> {
  const started = performance.now();
  const oidc = options.oidc ?? true;
  const dir = await mkdtemp(join(tmpdir(), 'latch-dot-'));
  dirs.add(dir);
  const log = join(dir, 'requests.log');
  const user: DotUser = { username: 'ann', password: `pw-${randomBytes(6).toString('hex')}`, email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee' };
  const apps = { web: app('web'), service: app('service'), password: app('password') };
  const config = {
    db: join(dir, 'db.sqlite3'),
    log,
    oidc,
    accessTokenTtl: options.accessTokenTtl ?? 3600,
    scopes: options.scopes ?? { ...(oidc ? { openid: 'OpenID Connect' } : {}), read: 'Read', write: 'Write' },
    defaultScopes: ['read'],
    user,
    apps: [
      { name: 'Latch (web)', client_id: apps.web.clientId, client_secret: apps.web.clientSecret, grant: 'authorization-code', redirect_uris: options.redirectUris, algorithm: oidc ? 'RS256' : '' },
      { name: 'Latch (service)', client_id: apps.service.clientId, client_secret: apps.service.clientSecret, grant: 'client-credentials' },
      // The same redirect URIs, as an operator may copy them: DOT then refuses it the code flow with unauthorized_client.
      { name: 'Latch (password)', client_id: apps.password.clientId, client_secret: apps.password.clientSecret, grant: 'password', redirect_uris: options.redirectUris, algorithm: oidc ? 'RS256' : '' },
    ],
  };
  const errFile = join(dir, 'stderr.log');
  const err = openSync(errFile, 'a');
  // stdin stays open: the server exits when it closes, so a crashed test run leaves no server behind.
  const child = spawn(DOT_PYTHON, [SERVER], {
    cwd: dir,
    // No __pycache__ beside the sources (the worktree stays clean).
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', LATCH_DOT_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', err],
  });
  closeSync(err);
  live.add(child);
  child.once('exit', () => live.delete(child));
  const removeDir = async () => {
    await rm(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };

  let ready: { port: number; ms: number };
  try {
    ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`startDot: no answer within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as { port: number; ms: number });
        } catch {
          reject(new Error(`startDot: unexpected output: ${line.slice(0, 200)}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`startDot: the server exited (${code ?? signal})`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    const stderr = existsSync(errFile) ? readFileSync(errFile, 'utf8').slice(-3000) : '';
    await removeDir();
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  // Nothing more comes on stdout; the pipes must not keep this process alive.
  child.stdout!.resume();
  for (const stream of [child.stdin, child.stdout] as Array<{ unref?: () => void } | null>) stream?.unref?.();
  child.unref();

  const url = `http://127.0.0.1:${ready.port}`;
  const requests = (): DotRequest[] =>
    existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as DotRequest) : [];
  let closing: Promise<void> | undefined;
  return {
    url,
    issuer: `${url}/o`,
    user,
    apps,
    startMs: Math.round(performance.now() - started),
    serverMs: ready.ms,
    requests,
    tokenRequests: (grantType, since = 0) =>
      requests().slice(since).filter((r) => r.path === '/o/token/' && (grantType === undefined || r.grant_type === grantType)),
    close() {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.ref(); // or the wait below would not keep the process alive
          child.kill('SIGTERM');
          await exited;
        }
        await removeDir();
      })();
      return closing;
    },
  };
}

/**
 * From a BFF `/login` URL through DOT's real pages to the first URL off both servers (the site's page;
 * not requested): DOT's login form (username, password, CSRF token), then its consent form, answered
 * with "Authorize" (or Cancel with `deny`). `callbackResult` is the BFF's answer to /callback.
 * A DOT session in the client's jar skips the login form; a page that is neither form throws.
 */
export async function signInAtDot(
  client: HttpClient,
  loginUrl: string,
  user: Pick<DotUser, 'username' | 'password'>,
  opts: { deny?: boolean } = {},
): Promise<{ finalUrl: URL; chain: string[]; callbackResult?: HttpResult; pages: string[] }> {
  const bffOrigin = new URL(loginUrl).origin;
  const chain = [loginUrl];
  const pages: string[] = [];
  let callbackResult: HttpResult | undefined;
  let result = await client.request(loginUrl);
  const dotOrigin = result.location ? new URL(result.location).origin : undefined;
  for (let steps = 0; steps < 20; steps++) {
    if (result.status >= 300 && result.status < 400 && result.location) {
      const next = new URL(result.location);
      chain.push(next.href);
      if (next.origin !== bffOrigin && next.origin !== dotOrigin) return { finalUrl: next, chain, pages, ...(callbackResult ? { callbackResult } : {}) };
      result = await client.request(next.href);
      if (next.origin === bffOrigin && next.pathname.endsWith('/callback')) callbackResult ??= result;
      continue;
    }
    if (result.status !== 200 || new URL(result.url).origin !== dotOrigin) break;
    const forms = parseForms(result.text, result.url).filter((f) => f.method === 'post');
    const login = forms.find((f) => f.inputs.has('username') && f.inputs.has('password'));
    const consent = forms.find((f) => f.id === 'authorizationForm');
    let fields: Record<string, string>;
    const form = login ?? consent;
    if (login) {
      if (pages.at(-1) === 'login') throw new Error(`signInAtDot: DOT refused the password of "${user.username}"`);
      pages.push('login');
      fields = { username: user.username, password: user.password };
    } else if (consent) {
      pages.push('consent');
      fields = opts.deny ? {} : { allow: 'Authorize' };
    } else {
      break;
    }
    const body = new URLSearchParams([...form!.inputs].filter(([name]) => name !== 'allow'));
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    chain.push(form!.action);
    result = await client.request(form!.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
  }
  return { finalUrl: new URL(result.url), chain, pages, ...(callbackResult ? { callbackResult } : {}) };
}

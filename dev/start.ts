/**
 * `npm start`: the whole demo on loopback, with no configuration.
 *   1. a development OpenID provider (oidc-provider) with a demo user,
 *   2. the BFF, configured against it,
 *   3. a demo microsite on another origin that loads the widget bundle,
 *   4. a demo API protected by requireToken, reached through the BFF at /api/demo/... .
 * Ctrl-C stops them all.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogFn, Logger } from 'pino';
import { createBff } from '../bff/app.ts';
import { loadConfig } from '../bff/config.ts';
import { createLogger } from '../bff/logger.ts';
import { DEMO_API_RESOURCE, DEMO_API_SCOPE, startDemoApi } from './demo-api.ts';
import { nodeNotice } from './node-support.ts';
import { startDevProvider } from './provider.ts';
import { siteHandler } from './site.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const PROVIDER_PORT = Number(process.env['DEMO_PROVIDER_PORT'] ?? 9090);
const BFF_PORT = Number(process.env['PORT'] ?? 8787);
const SITE_PORT = Number(process.env['DEMO_SITE_PORT'] ?? 8080);
// localhost for the site and the BFF: two origins, one site, so the SameSite=Lax cookie travels.
const bffUrl = `http://localhost:${BFF_PORT}`;
const siteOrigin = `http://localhost:${SITE_PORT}`;

async function buildWidget() {
  if (existsSync(join(root, 'dist/latch.js')) && process.env['DEMO_REBUILD'] !== '1') return;
  process.stdout.write('Building the widget (dist/latch.js)...\n');
  const { build } = await import('vite');
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
}

function listen(server: Server, port: number, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`${name}: port ${port} is in use (set ${name === 'BFF' ? 'PORT' : name === 'provider' ? 'DEMO_PROVIDER_PORT' : 'DEMO_SITE_PORT'})`) : err));
    server.listen(port, '127.0.0.1', resolve);
  });
}

/** The start-up warnings the demo's own settings cause: it runs on plain http by design, which the banner says once. */
const DEMO_SETTINGS = new Set(['LATCH_ALLOW_INSECURE_HTTP', 'LATCH_BASE_URL']);

/**
 * The BFF's log, minus the start-up warnings about the demo's own http settings (bff/config-warnings.ts
 * says them to an operator; here the banner says it once). A signed-out visitor's `/me` is logged at
 * debug by the BFF itself. Everything else the BFF logs at the level (warn, or LATCH_LOG_LEVEL) stays.
 */
function quietDemo(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const fields = args[0] as { event?: unknown; variable?: unknown } | undefined;
  if (fields?.event === 'config-warning' && DEMO_SETTINGS.has(String(fields.variable))) return;
  method.apply(this, args);
}

async function main() {
  await buildWidget();
  const clientSecret = randomBytes(24).toString('base64url');
  const provider = await startDevProvider({
    port: PROVIDER_PORT,
    clients: [{
      client_id: 'latch-demo',
      client_name: 'Acme microsite',
      client_secret: clientSecret,
      redirect_uris: [`${bffUrl}/callback`],
      post_logout_redirect_uris: [`${siteOrigin}/`],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    }],
    // User access tokens are JWTs (RFC 9068) for the demo API: the provider's default resource.
    jwtAccessTokens: { resource: DEMO_API_RESOURCE, scopes: [DEMO_API_SCOPE] },
  });
  const demoApi = await startDemoApi({ issuer: provider.issuer, port: Number(process.env['DEMO_API_PORT'] ?? 0) });
  const config = loadConfig({
    ...process.env,
    LATCH_ISSUER: provider.issuer,
    LATCH_CLIENT_ID: 'latch-demo',
    LATCH_CLIENT_SECRET: clientSecret,
    LATCH_BASE_URL: bffUrl,
    // A fresh random secret each run: demo sessions end when the demo stops.
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOWED_ORIGINS: siteOrigin,
    LATCH_ALLOW_INSECURE_HTTP: 'true',
    PORT: String(BFF_PORT),
    // The page's latch.fetch('/api/demo/hello') goes to the demo API with the user's token.
    LATCH_API_ROUTES: `demo=${demoApi.url}`,
    LATCH_API_ROUTE_DEMO_SCOPE: DEMO_API_SCOPE,
  });
  const bff = createServer(createBff(config, { logger: createLogger(process.env['LATCH_LOG_LEVEL'] ?? 'warn', { logMethod: quietDemo }) }).callback());
  await listen(bff, BFF_PORT, 'BFF');
  // silent="true": after "Stay signed in" at the provider's sign-out prompt, the page signs the user back in (docs/widget.md).
  const site = createServer(siteHandler({ bffUrl, silent: true }));
  await listen(site, SITE_PORT, 'site');

  const user = provider.users[0]!;
  const notice = nodeNotice();
  process.stdout.write(`
Latch demo is running.

  Microsite (open this):   ${siteOrigin}/
  BFF:                     ${bffUrl}
  OpenID provider:         ${provider.issuer}
  Demo API:                ${demoApi.url} (at ${bffUrl}/api/demo/hello)

  Demo user:   ${user.login}
  Password:    ${user.password}

  Development settings: plain http on loopback (LATCH_ALLOW_INSECURE_HTTP=true). Never in production.

${notice ? `  ${notice}\n\n` : ''}Press Ctrl-C to stop.
`);

  const stop = async () => {
    process.stdout.write('\nStopping...\n');
    bff.closeAllConnections();
    site.closeAllConnections();
    await Promise.all([
      new Promise((r) => bff.close(r)),
      new Promise((r) => site.close(r)),
      provider.close(),
      demoApi.close(),
    ]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

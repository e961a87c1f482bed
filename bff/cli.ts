import { resolve } from 'node:path';
import { loadConfig, type BffConfig } from './config.ts';
import { configWarnings } from './config/warnings.ts';
import { ConfigError } from './errors.ts';
import { HEALTH_PATH } from './routes/health.ts';
import { METRICS_PATH } from './routes/metrics.ts';
import { defaultWidgetDir, loadWidgetAssets } from './routes/widget-asset.ts';
import { runServer } from './server.ts';

declare const __LATCH_VERSION__: string | undefined;
const VERSION: string = typeof __LATCH_VERSION__ == 'string' ? __LATCH_VERSION__ : 'dev';

const USAGE = `Usage: latch-bff [option]

  (no option)      start the BFF (as dist/bff/server.js does), configured from the environment
  --check-config   validate the environment and print every problem, naming its variable;
                   exit 1 if there is any, 0 if not. Nothing is started, nothing is fetched.
  --healthcheck    ask this machine's BFF for /healthz (PORT); exit 0 if it answers 200
                   (the container's HEALTHCHECK)
  --version        print the version
  --help           print this

Every setting is an environment variable: see docs/configuration.md.
`;

type Env = Record<string, string | undefined>;

/** Runs the command line; resolves with the exit code (undefined: the server was started and keeps running). */
async function main(argv: string[] = process.argv.slice(2), env: Env = process.env): Promise<number | undefined> {
  const [flag, ...rest] = argv;
  if (rest.length > 0) return usage(`unexpected argument "${rest[0]}"`);
  switch (flag) {
    case undefined:
      await runServer(env);
      return undefined;
    case '--check-config':
      return checkConfig(env);
    case '--healthcheck':
      return healthcheck(env);
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return usage(`unknown option "${flag}"`);
  }
}

function usage(problem: string): number {
  process.stderr.write(`latch-bff: ${problem}\n\n${USAGE}`);
  return 2;
}

/** One provider of LATCH_PROVIDERS for --check-config: name, kind, issuer (or tenants), client id. */
function describeProvider(p: BffConfig['providers'][number]): string {
  const where = p.tenants ? `${p.settings.issuer} for ${p.tenants.join(', ')}` : p.settings.issuer || '(derived)';
  return `${p.name} (${p.settings.provider}, ${where}, client ${p.settings.clientId})`;
}

/** Validates the environment; on success prints what it found (never a secret) and any warning. */
async function checkConfig(env: Env): Promise<number> {
  let config: BffConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n\n${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}: nothing was started.\n`);
    return 1;
  }
  const widgetDir = config.widgetDir ? resolve(config.widgetDir) : defaultWidgetDir();
  const widget = Object.keys((await loadWidgetAssets(widgetDir)).manifest);
  // The same warnings the server and the Lambda log when they start, and the widget's, which needs the disk.
  const warnings = configWarnings(config).map((w) => w.message);
  if (widget.length === 0) warnings.push(`no widget bundle (latch*.js) in ${widgetDir}: /latch.js will answer 404 (LATCH_WIDGET_DIR)`);
  const rows: Array<[string, string]> = [
    ['provider', config.provider],
    // Issue 17: with LATCH_PROVIDERS, each one (the rows above and below are the first's).
    ...(config.providers.some((p) => p.name !== 'default') ? [['providers', config.providers.map(describeProvider).join('; ')] as [string, string]] : []),
    ['issuer', config.oauth2?.metadataUrls.length && !config.oauth2.issuerGiven ? `from ${config.oauth2.metadataUrls[0]}, else ${config.issuer}` : config.issuer || '(derived)'],
    ['client id', config.clientId],
    ...(config.serviceClientId !== config.clientId ? [['service client id', config.serviceClientId] as [string, string]] : []),
    ['client secret', 'set'],
    ['base URL', config.baseUrl.href],
    ['redirect URI', config.redirectUri],
    ['allowed origins', config.allowedOrigins.join(', ')],
    ...config.sites.slice(1).map((site, i): [string, string] => [`site ${i + 2}`, `${site.baseUrl.href} (redirect URI ${site.redirectUri}; origins ${site.allowedOrigins.join(', ')})`]),
    ['hand-off', config.handoff ? 'on (POST /handoff, partitioned cookies)' : 'off'],
    ['cookie secrets', `${config.cookieSecrets.length} set`],
    ['listen', `${config.host}:${config.port}`],
    ['trust proxy', String(config.trustProxy)],
    ['metrics', config.metrics ? METRICS_PATH : 'off'],
    ['widget', widget.length ? `${widgetDir} (${widget.join(', ')})` : `${widgetDir} (none)`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(
    `latch-bff ${VERSION}: configuration OK\n` +
      rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n') +
      '\n' +
      warnings.map((w) => `warning: ${w}\n`).join(''),
  );
  return 0;
}

/** GET http://127.0.0.1:PORT/healthz (or LATCH_HOST when it names one address), two seconds at most. */
async function healthcheck(env: Env): Promise<number> {
  let config: BffConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    process.stderr.write(`unhealthy: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const anyAddress = config.host === '0.0.0.0' || config.host === '::' || config.host === '';
  const host = anyAddress ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  try {
    const res = await fetch(`http://${host}:${config.port}${HEALTH_PATH}`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    if (res.status === 200) {
      process.stdout.write('healthy\n');
      return 0;
    }
    process.stderr.write(`unhealthy: ${HEALTH_PATH} answered ${res.status}\n`);
  } catch (err) {
    process.stderr.write(`unhealthy: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return 1;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`latch-bff: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
